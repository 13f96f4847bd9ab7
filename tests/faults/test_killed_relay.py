"""A relay's process is killed (SIGKILL: no shutdown, no goodbye) while its host publishes.

Nobody is left to say the seat stopped publishing, so `publishing` is a lease that process renewed
(media/lease.py). Once it lapses, the sweep (rooms.tasks.expire_publishing, run here the way beat
runs it) turns the seat off, and a viewer on another process sees `publishing: false` within the
lease and one sweep interval. Short lease and sweep so the test is quick.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from rooms.models import Room, Seat
from rooms.tasks import expire_publishing
from tests.media.peers import Publisher, post_whip, token_of
from tests.servers import daphne

pytestmark = pytest.mark.django_db(transaction=True)

LEASE, RENEW, SWEEP = 2.0, 0.5, 0.5  # seconds


async def next_seat_update(socket: Any, index: int, publishing: bool, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no seat.updated with publishing={publishing} within {within} s"
        frame = json.loads(await asyncio.wait_for(socket.recv(), left))
        seat = frame.get("seat") or {}
        if frame["type"] == "seat.updated" and seat["index"] == index and seat["publishing"] is publishing:
            return frame


async def test_a_killed_relays_seat_stops_publishing_for_viewers_elsewhere(room: Room) -> None:
    env = {"PUBLISHING_LEASE_SECONDS": str(LEASE), "PUBLISHING_RENEW_INTERVAL": str(RENEW)}
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    token = await database_sync_to_async(token_of)(room, 0)
    publisher = Publisher(0)
    try:
        with daphne(connection.settings_dict, **env) as origin, daphne(connection.settings_dict, **env) as other:
            viewer = await websockets.connect(
                f"ws://127.0.0.1:{other.port}/ws/rooms/{room.slug}/", origin=f"http://127.0.0.1:{other.port}"
            )
            try:
                state = json.loads(await asyncio.wait_for(viewer.recv(), 10))
                assert state["type"] == "room.state"
                assert state["seats"][0]["publishing"] is False

                url = f"http://127.0.0.1:{origin.port}/rooms/{room.slug}/whip"
                answer = await asyncio.to_thread(post_whip, url, token, await publisher.offer())
                await publisher.accept(answer)
                await next_seat_update(viewer, 0, True, within=20)

                # Several renewals in, the relay is alive and well: the sweep leaves it alone.
                for _ in range(int(2 * LEASE / SWEEP)):
                    await asyncio.sleep(SWEEP)
                    assert await database_sync_to_async(expire_publishing)() == 0

                origin.process.send_signal(signal.SIGKILL)
                origin.process.wait()
                killed = time.monotonic()

                async def beat() -> None:  # the sweep, every SWEEP seconds, as beat would run it
                    while True:
                        await database_sync_to_async(expire_publishing)()
                        await asyncio.sleep(SWEEP)

                sweeping = asyncio.create_task(beat())
                try:
                    # the viewer's process polls the stream once a second: allow that and some load
                    await next_seat_update(viewer, 0, False, within=LEASE + SWEEP + 5)
                finally:
                    sweeping.cancel()
                took = time.monotonic() - killed
                # Not before the lease could have lapsed (the last renewal was at most RENEW before
                # the kill), and within the lease, one sweep and the viewer's process's poll.
                assert LEASE - RENEW - 0.1 <= took <= LEASE + SWEEP + 5, took
                print(f"publishing: false reached the viewer {took:.2f} s after the kill")
                seat = await database_sync_to_async(Seat.objects.get)(room=room, index=0)
                assert not seat.publishing
                assert seat.publishing_until is None
            finally:
                await viewer.close()
    finally:
        await publisher.close()
