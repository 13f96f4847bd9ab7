"""The home page tells the truth about each room (#13): LIVE once a seat publishes, "starting soon"
while the room is open and nobody publishes yet."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.test import Client

from rooms.actions import create_room
from rooms.models import Seat


def badges(page: str) -> dict[str, str]:
    """Room title -> the badge beside it on the home page."""
    cards = re.findall(r'<span class="badge (live|soon)">[^<]*</span> <a href="[^"]+"><strong>([^<]+)</strong>', page)
    return {title: badge for badge, title in cards}


def test_a_room_is_starting_soon_until_a_seat_publishes(client: Client, alice: User, bob: User) -> None:
    on_air = create_room(host=alice, title="Alice on air")
    create_room(host=bob, title="Bob getting ready")
    Seat.objects.filter(room=on_air, index=0).update(publishing=True)
    page = client.get("/").content.decode()
    assert badges(page) == {"Alice on air": "live", "Bob getting ready": "soon"}
    assert page.count(">LIVE</span>") == 1
    assert page.count(">Starting soon</span>") == 1


def test_the_badges_speak_french(client: Client, alice: User) -> None:
    create_room(host=alice, title="Alice")
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert ">Bientôt en direct</span>" in page
