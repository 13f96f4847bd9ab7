"""Moderators work in the real admin: log in through its login page, use its actions."""

import pytest
from django.test import Client
from django.urls import reverse

from comments.actions import post_comment, remove_comment
from comments.models import Comment, ModerationJob
from conftest import PASSWORD
from rooms.events import events_after
from rooms.models import Room

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:comments_comment_changelist")


@pytest.fixture
def as_mod(client: Client, mod) -> Client:
    page = client.post(reverse("admin:login"), {"username": "mod", "password": PASSWORD, "next": "/admin/"})
    assert page.status_code == 302
    assert page["Location"] == "/admin/"
    return client


def test_it_lists_comments_newest_first_with_their_state(as_mod: Client, room: Room, carol, mod) -> None:
    first = post_comment(room=room, author=carol, text="first <b>comment</b>")
    post_comment(room=room, author=carol, text="second comment")
    remove_comment(comment=first, by=mod)
    page = as_mod.get(CHANGELIST)
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("second comment") < html.index("first &lt;b&gt;comment&lt;/b&gt;")
    assert "<b>comment</b>" not in html
    assert "removed by mod" in html
    assert "Alice live" in html


def test_it_filters_and_searches(as_mod: Client, room: Room, carol, mod) -> None:
    keep = post_comment(room=room, author=carol, text="lovely stream")
    gone = post_comment(room=room, author=carol, text="buy cheap stuff")
    remove_comment(comment=gone, by=mod)
    removed = as_mod.get(CHANGELIST, {"state": "removed"}).content.decode()
    assert "buy cheap stuff" in removed
    assert "lovely stream" not in removed
    found = as_mod.get(CHANGELIST, {"q": "lovely"}).content.decode()
    assert keep.text in found
    assert "buy cheap stuff" not in found
    by_room = as_mod.get(CHANGELIST, {"room__id__exact": room.pk})
    assert by_room.status_code == 200


def test_a_moderator_removes_a_comment_softly(as_mod: Client, room: Room, carol, mod) -> None:
    comment = post_comment(room=room, author=carol, text="spam spam")
    page = as_mod.post(CHANGELIST, {"action": "remove_selected", "_selected_action": [comment.pk]}, follow=True)
    assert "Removed 1 comment(s)." in page.content.decode()
    comment.refresh_from_db()
    assert comment.removed_at is not None
    assert comment.removed_by == mod
    assert events_after(room.pk, 1) == [{"type": "comment.removed", "seq": 2, "comment_id": comment.pk}]


def test_a_moderator_restores_a_comment(as_mod: Client, room: Room, carol, mod) -> None:
    comment = post_comment(room=room, author=carol, text="not spam after all")
    as_mod.post(CHANGELIST, {"action": "remove_selected", "_selected_action": [comment.pk]})
    page = as_mod.post(CHANGELIST, {"action": "restore_selected", "_selected_action": [comment.pk]}, follow=True)
    assert "Restored 1 comment(s)." in page.content.decode()
    comment.refresh_from_db()
    assert comment.removed_at is None
    assert [f["type"] for f in events_after(room.pk, 0)] == [
        "comment.created",
        "comment.removed",
        "comment.created",
    ]


def test_a_moderator_cannot_edit_or_hard_delete(as_mod: Client, room: Room, carol) -> None:
    comment = post_comment(room=room, author=carol, text="original words")
    change_url = reverse("admin:comments_comment_change", args=[comment.pk])
    assert as_mod.get(change_url).status_code == 200  # a read-only view
    as_mod.post(change_url, {"text": "rewritten"})
    assert as_mod.post(reverse("admin:comments_comment_delete", args=[comment.pk]), {"post": "yes"}).status_code == 403
    as_mod.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [comment.pk], "post": "yes"})
    comment.refresh_from_db()
    assert comment.text == "original words"
    assert comment.removed_at is None


def test_the_delete_button_removes_softly_for_an_admin(client: Client, room: Room, carol, django_user_model) -> None:
    django_user_model.objects.create_superuser("root", password=PASSWORD)
    client.login(username="root", password=PASSWORD)
    comment = post_comment(room=room, author=carol, text="delete me")
    client.post(reverse("admin:comments_comment_delete", args=[comment.pk]), {"post": "yes"})
    comment.refresh_from_db()
    assert comment.removed_at is not None
    assert events_after(room.pk, 1)[0]["type"] == "comment.removed"


def test_a_viewer_cannot_use_the_admin(client: Client, room: Room, carol) -> None:
    client.login(username="carol", password=PASSWORD)
    comment = post_comment(room=room, author=carol, text="mine")
    page = client.post(CHANGELIST, {"action": "remove_selected", "_selected_action": [comment.pk]})
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("admin:login"))
    comment.refresh_from_db()
    assert comment.removed_at is None


def test_a_moderator_sees_a_rooms_four_seats_and_ends_it(as_mod: Client, room: Room) -> None:
    page = as_mod.get(reverse("admin:rooms_room_change", args=[room.pk])).content.decode()
    assert page.count('class="field-index"') == 4
    assert "alice" in page
    listing = reverse("admin:rooms_room_changelist")
    done = as_mod.post(listing, {"action": "end_selected", "_selected_action": [room.pk]}, follow=True)
    assert "Ended 1 room(s)." in done.content.decode()
    room.refresh_from_db()
    assert room.status == "ended"
    assert [f["type"] for f in events_after(room.pk, 0)] == ["room.ended"]


def test_moderators_hold_only_moderation_permissions(mod) -> None:
    perms = mod.get_all_permissions()
    assert "comments.moderate_comment" in perms
    assert "rooms.end_room" in perms
    assert "comments.add_ban" in perms
    assert not {"comments.change_comment", "comments.delete_comment", "rooms.delete_room", "auth.change_user"} & perms
    assert Comment.objects.count() == 0


def test_a_moderator_bans_an_author_here_and_their_comments_go(
    as_mod: Client, room: Room, bob, carol, mod, tasks_run_here, django_capture_on_commit_callbacks
) -> None:
    from comments.models import Ban
    from rooms.actions import create_room

    elsewhere = create_room(host=bob, title="Bob live")
    spam = [post_comment(room=room, author=carol, text=f"spam {n}") for n in range(2)]
    kept = post_comment(room=elsewhere, author=carol, text="fine over here")
    with django_capture_on_commit_callbacks(execute=True):
        page = as_mod.post(
            CHANGELIST, {"action": "ban_in_room_and_remove", "_selected_action": [spam[0].pk]}, follow=True
        )
    job = ModerationJob.objects.get()
    assert f"Banned carol from Alice live; removing their comments in the background (job {job.pk})." in (
        page.content.decode()
    )
    assert "Banned carol from Alice live; removed 2 comments." in as_mod.get(CHANGELIST).content.decode()
    assert Ban.objects.filter(user=carol, room=room, created_by=mod).exists()
    assert not Comment.objects.filter(room=room, removed_at__isnull=True).exists()
    assert [f["type"] for f in events_after(room.pk, 2)] == ["comment.removed", "comment.removed"]
    kept.refresh_from_db()
    assert kept.removed_at is None


def test_a_moderator_bans_an_author_everywhere(
    as_mod: Client, room: Room, bob, carol, tasks_run_here, django_capture_on_commit_callbacks
) -> None:
    from comments.models import Ban
    from rooms.actions import create_room

    elsewhere = create_room(host=bob, title="Bob live")
    first = post_comment(room=room, author=carol, text="spam")
    post_comment(room=elsewhere, author=carol, text="more spam")
    with django_capture_on_commit_callbacks(execute=True):
        as_mod.post(CHANGELIST, {"action": "ban_everywhere_and_remove", "_selected_action": [first.pk]})
    assert Ban.objects.filter(user=carol, room=None).exists()
    assert not Comment.objects.filter(author=carol, removed_at__isnull=True).exists()
    assert [f["type"] for f in events_after(elsewhere.pk, 1)] == ["comment.removed"]
    assert "Banned carol everywhere; removed 2 comments." in as_mod.get(CHANGELIST).content.decode()
