"""A seat's "New token" ends the stream published with the old one wherever that stream runs: the
new token's `seat.token` reaches every process's hub, and the relay holding the seat's publisher
(the room's origin) ends a stream made with any other token. In one process (the token replaced
by the action, as another process would) and with two daphne processes (the studio's request
served by a process that is not the room's origin)."""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.error
import urllib.request

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.test import AsyncClient

from media import services
from rooms import seats
from rooms.models import Room, Seat
from tests.media.peers import Publisher, Viewer, token_of
from tests.media.test_edge import (
    fresh_lease,
    needs_processes,
    offer,
    processes,
    publish,
    shows,
    video_packets,
    watch,
)
from tests.servers import Served
from tests.sockets import session_cookie
from tests.waiting import wait_for, wait_for_db

pytestmark = pytest.mark.django_db(transaction=True)
SDP = "application/sdp"


def _closed(publisher: Publisher) -> bool:
    return publisher.pc.connectionState in ("closed", "failed")


async def test_a_token_replaced_elsewhere_ends_the_stream_here(relays: None, room: Room, alice: User) -> None:
    old = await database_sync_to_async(token_of)(room, 0)
    publisher = Publisher(0)
    try:
        client = AsyncClient()
        answer = await client.post(
            f"/rooms/{room.slug}/whip",
            data=await publisher.offer(),
            content_type=SDP,
            headers={"Authorization": f"Bearer {old}"},
        )
        assert answer.status_code == 201
        await publisher.accept(answer.content.decode())
        await wait_for_db(lambda: Seat.objects.get(room=room, index=0).publishing, what="seat 0 publishing")

        # Not through this process's view: the action alone, as a request served elsewhere runs it.
        _seat, replaced = await database_sync_to_async(seats.rotate_publish_token)(room=room, user=alice)
        assert replaced == old
        await wait_for(lambda: _closed(publisher), within=5, what="the old token's stream ended")
        await wait_for_db(lambda: not Seat.objects.get(room=room, index=0).publishing, what="seat 0 stopped")
        media = services.media_of(room.pk)
        assert media is not None
        assert media.relay.publisher(0) is None
    finally:
        await publisher.close()


async def test_a_stream_made_with_the_new_token_goes_on(relays: None, room: Room, alice: User) -> None:
    publisher = Publisher(0)
    try:
        await database_sync_to_async(seats.rotate_publish_token)(room=room, user=alice)
        new = await database_sync_to_async(token_of)(room, 0)
        answer = await AsyncClient().post(
            f"/rooms/{room.slug}/whip",
            data=await publisher.offer(),
            content_type=SDP,
            headers={"Authorization": f"Bearer {new}"},
        )
        assert answer.status_code == 201
        await publisher.accept(answer.content.decode())
        await wait_for_db(lambda: Seat.objects.get(room=room, index=0).publishing, what="seat 0 publishing")
        media = services.media_of(room.pk)
        assert media is not None
        assert await media.token_is(0, new) is False  # what the hub hears again (a late seat.token)
        await asyncio.sleep(1.0)
        assert not _closed(publisher)
        assert (seat := media.relay.publisher(0)) is not None
        assert seat.publishing
    finally:
        await publisher.close()


def _rotate(server: Served, slug: str, cookie: str) -> tuple[int, dict[str, str]]:
    """The studio's "New token" button: a signed-in POST with its CSRF token."""
    csrf = secrets.token_hex(16)  # 32 characters: a CSRF secret Django accepts as cookie and header alike
    request = urllib.request.Request(  # noqa: S310 - our loopback servers
        f"{server.url}/rooms/{slug}/whip/token",
        method="POST",
        headers={"Cookie": f"sessionid={cookie}; csrftoken={csrf}", "X-CSRFToken": csrf},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {"error": error.read().decode()}


@needs_processes
async def test_new_token_on_another_process_ends_the_stream_on_the_origin(room: Room, alice: User) -> None:
    cookie = await database_sync_to_async(session_cookie)(alice)
    old = await database_sync_to_async(token_of)(room, 0)
    peers: list[Publisher | Viewer] = []
    with fresh_lease(room), processes(2) as (origin, other):
        publisher = await publish(origin, room, 0)
        peers.append(publisher)
        try:
            viewer = await watch(other, room)  # (the other process is an edge of the room too)
            peers.append(viewer)
            await shows(viewer, 0)
            status, body = await asyncio.to_thread(_rotate, other, room.slug, cookie)
            assert status == 200, body
            new = body["token"]
            assert new not in ("", old)

            await wait_for(lambda: _closed(publisher), within=5, what="the old token's stream ended on the origin")
            await wait_for_db(lambda: not Seat.objects.get(room=room, index=0).publishing, what="seat 0 stopped")

            # the old token opens nothing anywhere; the new one publishes (sent to either process)
            again = Publisher(0)
            peers.append(again)
            refused = await asyncio.to_thread(_post_status, other, room.slug, await again.offer(), old)
            assert refused == 403
            newer = Publisher(0)
            peers.append(newer)
            stopped = await video_packets(viewer, 0)
            await newer.accept(await offer(other, room.slug, "whip", await newer.offer(), new))
            await wait_for_packets(viewer, stopped + 30)
            await shows(viewer, 0)
        finally:
            for peer in peers:
                await peer.close()


async def wait_for_packets(viewer: Viewer, count: int, within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while await video_packets(viewer, 0) < count:
        assert asyncio.get_running_loop().time() < deadline, "the viewer got no video from the new stream"
        await asyncio.sleep(0.1)


def _post_status(server: Served, slug: str, sdp: str, token: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - our loopback servers
        f"{server.url}/rooms/{slug}/whip",
        data=sdp.encode(),
        method="POST",
        headers={"Content-Type": SDP, "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
