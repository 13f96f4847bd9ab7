"""A mute committed while the room's relay is being created is never forwarded, not even the first
frames: the relay subscribes to the room's events before it reads the seats, and forwards nothing
until it knows them. Real aiortc peers over loopback, through WHIP and WHEP."""

from __future__ import annotations

import asyncio
from typing import Any

import av
import pytest
from django.contrib.auth.models import User
from django.test import AsyncClient

from liverooms.db import db_async
from media import services
from rooms import seats
from rooms.hub import Hubs
from rooms.models import Room
from tests.media.peers import (
    NewRelay,
    Peers,
    Publisher,
    Viewer,
    luma_of,
    next_frame,
    publish_via_whip,
    seat_level,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)
SDP = "application/sdp"


def mute_as_the_relay_joins(monkeypatch: pytest.MonkeyPatch, room: Room, user: User, when: str, **off: bool) -> None:
    """Commit `off` (camera=False / mic=False) for seat 0 just before or just after the relay joins
    the room's event stream (the real hub; only the moment of the commit is chosen here). On a
    worker thread of its own (db_async): the request holds the thread-sensitive one."""
    join = Hubs.join

    async def joining(self: Hubs, joined: Room, sock: Any, *, viewer: bool = True) -> Any:
        if viewer or not isinstance(sock, services.RoomMedia):
            return await join(self, joined, sock, viewer=viewer)
        if when == "before":
            await db_async(seats.set_devices)(room=room, user=user, index=0, **off)
        hub = await join(self, joined, sock, viewer=viewer)
        if when == "after":
            await db_async(seats.set_devices)(room=room, user=user, index=0, **off)
            await asyncio.sleep(0.1)  # its event reaches the relay while it reads the seats
        return hub

    monkeypatch.setattr(Hubs, "join", joining)


async def watch_then_publish(room: Room, viewer: Viewer, publisher: Publisher) -> None:
    """The viewer's WHEP offer creates the relay (and meets the mute); it connects; then seat 0
    publishes. The seat already counts as publishing (its stream is moving over from another
    process, say), so the relay's own `publishing` report changes nothing and no `seat.updated`
    follows that could correct a relay which missed the mute: what it forwards now it would forward
    for as long as the stream lasts."""
    await db_async(seats.set_publishing)(room_id=room.pk, index=0, publishing=True)
    client = AsyncClient()
    watched = await client.post(f"/rooms/{room.slug}/whep", data=await viewer.offer(), content_type=SDP)
    assert watched.status_code == 201, watched.content
    await viewer.accept(watched.content.decode())
    await wait_for(lambda: viewer.pc.connectionState == "connected", what="viewer connected")
    await publish_via_whip(client, room, publisher)


@pytest.mark.parametrize("when", ["before", "after"])
async def test_it_never_forwards_a_camera_muted_as_the_relay_starts(
    relays: None, peers: Peers, room: Room, alice: User, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    mute_as_the_relay_joins(monkeypatch, room, alice, when, camera=False)
    publisher, viewer = peers.add(Publisher(0)), peers.add(Viewer(4))
    await watch_then_publish(room, viewer, publisher)
    # the seat's media flows (its audio arrives) ...
    assert isinstance(await next_frame(viewer.track(0, "audio"), within=8), av.AudioFrame)
    await asyncio.sleep(1.0)
    # ... but not one packet of its muted camera ever reached the viewer
    assert await viewer.packets_received(0, "video") == 0
    media = services.media_of(room.pk)
    assert media is not None
    assert media.relay.forwarding(0) == {"video": False, "audio": True}


@pytest.mark.parametrize("when", ["before", "after"])
async def test_it_never_forwards_a_mic_muted_as_the_relay_starts(
    relays: None, peers: Peers, room: Room, alice: User, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    mute_as_the_relay_joins(monkeypatch, room, alice, when, mic=False)
    publisher, viewer = peers.add(Publisher(0)), peers.add(Viewer(4))
    await watch_then_publish(room, viewer, publisher)
    assert abs(await luma_of(viewer.track(0, "video"), within=8) - seat_level(0)) < 12
    await asyncio.sleep(0.5)
    assert await viewer.packets_received(0, "audio") == 0


async def test_it_forwards_nothing_before_it_knows_the_seats(new_relay: NewRelay) -> None:
    relay = new_relay(forwarding=False)  # as media.services makes it
    assert all(relay.forwarding(i) == {"video": False, "audio": False} for i in range(4))
