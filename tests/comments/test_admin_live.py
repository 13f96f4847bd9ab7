"""The admin during a live (#15): one click from a room to its comments, and the comment list
counting the comments that arrived since it loaded ("N new comments"), under its own filters."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from comments.actions import post_comment, remove_comment
from conftest import PASSWORD, make_user
from rooms.actions import create_room, end_room
from rooms.models import Room

pytestmark = pytest.mark.django_db

COMMENTS = reverse("admin:comments_comment_changelist")
NEW = reverse("admin:comments_comment_new")


@pytest.fixture
def as_mod(client: Client, mod: User) -> Client:
    assert client.login(username="mod", password=PASSWORD)
    return client


def newest_on_page(html: str) -> int:
    found = re.search(r'id="new-comments"[^>]*data-after="(\d+)"', html, re.S)
    assert found, "no new-comments banner on the page"
    return int(found.group(1))


def test_a_rooms_admin_page_links_to_its_comments_in_one_click(as_mod: Client, room: Room, bob: User) -> None:
    ended = create_room(host=bob, title="Bob live")
    end_room(room=ended)
    listed = as_mod.get(reverse("admin:rooms_room_changelist")).content.decode()
    follow = f'href="{COMMENTS}?room__id__exact={room.pk}"'
    assert f"<a {follow}>Follow comments</a>" in listed
    assert f'<a href="{COMMENTS}?room__id__exact={ended.pk}">Comments</a>' in listed  # ended: not "follow"
    page = as_mod.get(reverse("admin:rooms_room_change", args=[room.pk])).content.decode()
    assert "comments (live)" in page.lower()
    assert follow in page


def test_the_link_narrows_the_comment_list_to_that_room(as_mod: Client, room: Room, bob: User, carol) -> None:
    elsewhere = create_room(host=bob, title="Bob live")
    post_comment(room=room, author=carol, text="in alice's live")
    post_comment(room=elsewhere, author=carol, text="in bob's live")
    html = as_mod.get(COMMENTS, {"room__id__exact": room.pk}).content.decode()
    assert "in alice&#x27;s live" in html
    assert "in bob&#x27;s live" not in html


def test_it_counts_new_comments_since_the_page_loaded_under_its_filters(
    as_mod: Client, room: Room, bob: User, carol
) -> None:
    elsewhere = create_room(host=bob, title="Bob live")
    post_comment(room=room, author=carol, text="before the page")
    html = as_mod.get(COMMENTS, {"room__id__exact": room.pk}).content.decode()
    after = newest_on_page(html)
    assert as_mod.get(NEW, {"room__id__exact": room.pk, "_after": after}).json() == {"count": 0}

    for n in range(3):
        post_comment(room=room, author=carol, text=f"new {n}")
    post_comment(room=elsewhere, author=carol, text="not this room")
    assert as_mod.get(NEW, {"room__id__exact": room.pk, "_after": after}).json() == {"count": 3}
    assert as_mod.get(NEW, {"_after": after}).json() == {"count": 4}  # the unfiltered list gains all
    assert as_mod.get(NEW, {"room__id__exact": room.pk, "q": "new 1", "_after": after}).json() == {"count": 1}
    # the list's "visible" filter: a new comment removed at once is not new on it
    gone = post_comment(room=room, author=carol, text="spam")
    remove_comment(comment=gone, by=None)
    visible = {"room__id__exact": room.pk, "state": "visible", "_after": after}
    assert as_mod.get(NEW, visible).json() == {"count": 3}


@pytest.mark.parametrize("after", ["", "-1", "x", "1e3", "9" * 19])
def test_a_bad_position_is_a_clear_400(as_mod: Client, after: str) -> None:
    answer = as_mod.get(NEW, {"_after": after})
    assert answer.status_code == 400
    assert "_after" in answer.json()["error"]


def test_an_unknown_filter_is_a_clear_400(as_mod: Client) -> None:
    answer = as_mod.get(NEW, {"_after": 0, "author__password__startswith": "pbkdf2"})
    assert answer.status_code == 400


def test_only_staff_who_may_see_comments_get_the_count(client: Client, room: Room, carol) -> None:
    post_comment(room=room, author=carol, text="hello")
    signed_out = client.get(NEW, {"_after": 0})
    assert signed_out.status_code == 302
    assert signed_out["Location"].startswith(reverse("admin:login"))
    assert client.login(username="carol", password=PASSWORD)  # not staff
    assert client.get(NEW, {"_after": 0}).status_code == 302
    staff = make_user("dave")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    assert client.login(username="dave", password=PASSWORD)  # staff, but no comment permission
    assert client.get(NEW, {"_after": 0}).status_code == 403


def test_the_list_carries_the_banner_and_its_script(as_mod: Client, room: Room, carol) -> None:
    newest = post_comment(room=room, author=carol, text="hello")
    html = as_mod.get(COMMENTS).content.decode()
    assert newest_on_page(html) == newest.pk
    assert f'data-url="{NEW}"' in html
    assert "comments/admin_live.js" in html
