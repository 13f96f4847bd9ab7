"""The live room's recording indicator and the host's switch (media.recording.live): the switch
reaches every open socket of the room at once as a `recording` frame, a late joiner reads it from
room.state, and the room page says whether the room records (without creating a replay row)."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.contrib.auth.models import User
from django.test import Client, override_settings

from media.models import Replay
from rooms.models import Room
from tests.sockets import join


def switch(user: User, room: Room, enabled: bool) -> tuple[int, dict[str, object]]:
    client = Client()
    client.force_login(user)
    response = client.post(
        f"/rooms/{room.slug}/recording", data=json.dumps({"enabled": enabled}), content_type="application/json"
    )
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
async def test_the_hosts_switch_reaches_every_socket_of_the_room_at_once(room: Room, alice: User, carol: User) -> None:
    viewer, anonymous = await join(room, carol), await join(room, None)
    assert viewer.state["recording"] is True
    assert anonymous.state["recording"] is True

    assert await sync_to_async(switch)(alice, room, False) == (200, {"enabled": False})
    for tab in (viewer, anonymous):
        assert await tab.recv("recording") == {"type": "recording", "enabled": False}
    late = await join(room, None)
    assert late.state["recording"] is False

    # a viewer cannot turn it back on, and the same answer twice sends nothing
    status, answer = await sync_to_async(switch)(carol, room, True)
    assert status == 403
    assert answer["code"] == "forbidden"
    assert await sync_to_async(switch)(alice, room, False) == (200, {"enabled": False})
    await viewer.nothing_more()

    assert await sync_to_async(switch)(alice, room, True) == (200, {"enabled": True})
    for tab in (viewer, anonymous, late):
        assert await tab.recv("recording") == {"type": "recording", "enabled": True}
    for tab in (viewer, anonymous, late):
        await tab.close()


@pytest.mark.django_db
def test_the_room_page_says_whether_the_room_records(room: Room, alice: User, carol: User) -> None:
    viewer = Client()
    viewer.force_login(carol)
    page = viewer.get(f"/rooms/{room.slug}/")
    assert page.context["recording"] is True
    assert page.context["recording_site"] is True
    html = page.content.decode()
    assert 'id="rec-badge"' in html
    assert 'aria-label="This live is being recorded"' in html
    assert 'id="toggle-recording"' in html
    assert 'aria-pressed="true"' in html
    assert not Replay.objects.filter(room=room).exists()  # reading creates no row

    assert switch(alice, room, False) == (200, {"enabled": False})
    page = viewer.get(f"/rooms/{room.slug}/")
    assert page.context["recording"] is False
    assert 'aria-pressed="false">Recording: off<' in page.content.decode()

    french = viewer.get(f"/rooms/{room.slug}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert 'aria-label="Ce live est enregistré"' in french.content.decode()


@pytest.mark.django_db
def test_with_the_site_not_recording_there_is_no_indicator_and_no_switch(room: Room, carol: User) -> None:
    with override_settings(RECORDING_ENABLED=False):
        page = Client().get(f"/rooms/{room.slug}/")
    assert page.context["recording"] is False
    html = page.content.decode()
    assert 'id="rec-badge"' not in html
    assert 'id="toggle-recording"' not in html
