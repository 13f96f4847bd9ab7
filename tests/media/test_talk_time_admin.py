"""The admin shows who spoke how long, on which seat of which room; nobody edits or deletes it there."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from conftest import PASSWORD
from media.models import TalkTime
from rooms.models import Room

pytestmark = pytest.mark.django_db


def test_the_admin_lists_each_speakers_talk_time_and_searches_by_room_or_user(room: Room, alice, bob) -> None:
    TalkTime.objects.create(room=room, seat_index=0, user=alice, milliseconds=3_725_400)
    TalkTime.objects.create(room=room, seat_index=2, user=bob, milliseconds=65_000)
    root = User.objects.create_superuser("root", password=PASSWORD)
    client = Client()
    client.force_login(root)

    page = client.get("/admin/media/talktime/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "1:02:05" in text
    assert "0:01:05" in text
    assert "alice" in text
    assert "bob" in text

    found = client.get("/admin/media/talktime/", {"q": "bob"}).content.decode()
    assert "0:01:05" in found
    assert "1:02:05" not in found

    row = TalkTime.objects.get(user=bob)
    assert client.get(f"/admin/media/talktime/{row.pk}/change/").status_code == 200  # a read-only page
    client.post(f"/admin/media/talktime/{row.pk}/change/", {"milliseconds": "1"})
    client.post(f"/admin/media/talktime/{row.pk}/delete/", {"post": "yes"})
    row.refresh_from_db()
    assert row.milliseconds == 65_000
    assert client.get("/admin/media/talktime/add/").status_code == 403
