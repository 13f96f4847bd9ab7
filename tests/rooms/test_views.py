"""A person's first minutes: sign up, go live, land in the room with four seats."""

import pytest
from django.test import Client
from django.urls import reverse

from comments.actions import post_comment, remove_comment
from conftest import PASSWORD
from rooms.actions import create_room, end_room
from rooms.models import Room

pytestmark = pytest.mark.django_db


def test_a_newcomer_signs_up_and_goes_live(client: Client) -> None:
    signup = client.post(
        reverse("signup"), {"username": "dave", "password1": "a-good-long-pass", "password2": "a-good-long-pass"}
    )
    assert signup.status_code == 302
    home = client.get(reverse("home")).content.decode()
    assert "@dave" in home

    created = client.post(reverse("rooms:create"), {"title": "Dave's first live"})
    room = Room.objects.get()
    assert created.status_code == 302
    assert created["Location"] == f"/rooms/{room.slug}/"
    assert room.host.username == "dave"
    assert list(room.seats.order_by("index").values_list("user__username", flat=True)) == ["dave", None, None, None]

    page = client.get(created["Location"]).content.decode()
    assert "Dave&#x27;s first live" in page
    assert page.count('class="tile"') == 4


def test_a_bad_signup_says_why(client: Client, alice) -> None:
    page = client.post(reverse("signup"), {"username": "alice", "password1": "x", "password2": "y"})
    assert page.status_code == 400
    assert "already exists" in page.content.decode()


def test_a_user_logs_in_and_out(client: Client, alice) -> None:
    page = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert page.status_code == 302
    assert "@alice" in client.get("/").content.decode()
    client.post(reverse("logout"))
    assert "@alice" not in client.get("/").content.decode()


def test_going_live_needs_an_account(client: Client) -> None:
    page = client.post(reverse("rooms:create"), {"title": "sneaky"})
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("login"))
    assert not Room.objects.exists()


def test_going_live_needs_a_title(client: Client, alice) -> None:
    client.force_login(alice)
    page = client.post(reverse("rooms:create"), {"title": "   "})
    assert page.status_code == 400
    assert "This field is required." in page.content.decode()
    assert not Room.objects.exists()


def test_home_lists_only_live_rooms(client: Client, alice, bob) -> None:
    create_room(host=alice, title="Alice <script>alert(1)</script>")
    end_room(room=create_room(host=bob, title="Bob's old live"))
    page = client.get("/").content.decode()
    assert "Alice &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "Bob&#x27;s old live" not in page
    assert "1 of 4 on stage" in page


def test_the_room_page_shows_visible_comments_as_text(client: Client, room: Room, carol, mod) -> None:
    post_comment(room=room, author=carol, text="<img src=x onerror=alert(1)>")
    gone = post_comment(room=room, author=carol, text="removed words")
    remove_comment(comment=gone, by=mod)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    assert "removed words" not in page


def test_an_unknown_room_is_404(client: Client) -> None:
    assert client.get("/rooms/nosuchroom/").status_code == 404


def test_pages_forbid_inline_script(client: Client, room: Room) -> None:
    page = client.get(f"/rooms/{room.slug}/")
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    html = page.content.decode()
    assert '<script type="module" src="/static/rooms/room.js">' in html
    assert html.count("<script") == 1
