"""A room's origin killed and started again on the same LIVEROOMS_INTERNAL_URL takes its old lease
over at once: its previous run (same URL, another run id) is gone, since the new one serves the
URL now. The publisher's page re-publishes and is answered at the first offer, not with 503 until
the dead run's lease runs out; the room's edge follows the new run. Real daphne processes."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
import redis
from channels.db import database_sync_to_async
from django.conf import settings

from media.origin import Holder, Registry
from rooms.models import Room
from tests.media.peers import Publisher, Viewer, token_of
from tests.media.test_edge import (
    _post,
    fresh_lease,
    locations,
    media_process,
    needs_processes,
    publish,
    shows,
    video_packets,
    watch,
)
from tests.servers import free_port

pytestmark = [pytest.mark.django_db(transaction=True), needs_processes]
LEASE = 30.0  # long: a take-over within it cannot be the lease running out


def _holder(room: Room) -> Holder | None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        value: bytes | None = client.get(Registry.key(room.pk))  # type: ignore[assignment]
        return Holder.decode(value)
    finally:
        client.close()


async def test_a_restarted_origin_takes_its_old_lease_over_at_once(room: Room) -> None:
    port = free_port()
    lease = str(LEASE)
    peers: list[Publisher | Viewer] = []
    with (
        fresh_lease(room),
        media_process(port, ORIGIN_LEASE_SECONDS=lease) as first,
        media_process(ORIGIN_LEASE_SECONDS=lease) as edge,
    ):
        try:
            peers.append(await publish(first, room, 0))
            viewer = await watch(edge, room)
            peers.append(viewer)
            await shows(viewer, 0)
            before = await asyncio.to_thread(_holder, room)
            assert before is not None
            assert before.url == first.url

            first.process.send_signal(signal.SIGKILL)
            first.process.wait()
            killed = time.monotonic()
            stalled = await video_packets(viewer, 0)
            with media_process(port, ORIGIN_LEASE_SECONDS=lease) as restarted:
                assert await asyncio.to_thread(_holder, room) == before  # the dead run's lease lives on
                again = Publisher(0)
                peers.append(again)
                token = await database_sync_to_async(token_of)(room, 0)
                # the page's first offer to the restarted process: answered, not 503
                status, answer = await asyncio.to_thread(
                    _post, f"{restarted.url}/rooms/{room.slug}/whip", await again.offer(), token
                )
                locations.pop(answer, None)
                assert status == 201, f"WHIP answered {status}: {answer}"
                assert time.monotonic() - killed < LEASE / 2
                await again.accept(answer)
                after = await asyncio.to_thread(_holder, room)
                assert after is not None
                assert after.url == first.url
                assert after.run != before.run
                # the edge subscribes to the new run: its viewer gets the seat again
                while await video_packets(viewer, 0) < stalled + 30:
                    assert time.monotonic() - killed < LEASE / 2, "the edge's viewer got no media again"
                    await asyncio.sleep(0.1)
                await shows(viewer, 0)
        finally:
            for peer in peers:
                await peer.close()
