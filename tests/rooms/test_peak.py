"""A live's peak audience is on its recap however short the live was (#13): the hub writes a new
viewer high when it sees one, not at the next periodic report (which an ended room skips)."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.contrib.auth.models import User
from django.test import Client

from rooms.actions import end_room
from rooms.models import Room, RoomStats
from tests.sockets import join

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_live_that_ends_at_once_still_has_its_peak(room: Room, alice: User, bob: User, carol: User) -> None:
    host = await join(room, alice)
    viewers = [await join(room, user) for user in (bob, carol)]
    await asyncio.sleep(0.4)  # two hub ticks; the first report is not due before a second
    await sync_to_async(end_room)(room=room)
    for peer in (host, *viewers):
        await peer.recv("room.ended")
    # the sockets stay open on the ended page, which reads the recap now
    assert (await RoomStats.objects.aget(room=room)).peak_viewers == 2
    page = await sync_to_async(Client().get)(f"/rooms/{room.slug}/")
    assert '<dd id="recap-peak">2</dd>' in page.content.decode()
    for peer in (host, *viewers):
        await peer.close()
