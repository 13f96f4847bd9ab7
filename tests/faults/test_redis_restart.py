"""Redis restarts while a room is live on two daphne processes: the room goes on.

Our own redis-server (no persistence: a restart forgets every group membership and queued
message). Stream events reach every socket even while Redis is down (the stream is in the
database); ephemeral frames (reactions, which only travel through Redis) resume within seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from comments import actions as comment_actions
from rooms.models import Room
from tests.faults.services import RedisServer, redis_server
from tests.faults.tabs import Tab, open_tab
from tests.servers import daphne
from tests.sockets import session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="two processes share a database: needs PostgreSQL"),
]

RESUME_WITHIN = 10.0  # seconds after Redis is back by which reactions must flow again


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def two_servers(transactional_db: None, redis: RedisServer) -> Iterator[list[int]]:
    with ExitStack() as stack:
        servers = [stack.enter_context(daphne(connection.settings_dict, REDIS_URL=redis.url)) for _ in "ab"]
        yield [served.port for served in servers]


async def reactions_flow(sender: Tab, receiver: Tab, *, within: float) -> float:
    """Send a heart every 200 ms until the receiver hears one; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        await sender.send(type="reaction.send", kind="heart")
        try:
            await receiver.next("reactions", wait=0.2)
            return time.monotonic() - started
        except TimeoutError:
            continue
    raise AssertionError(f"no reactions frame within {within} s")


async def comment(tab: Tab, text: str) -> int:
    """Post as the tab's user (retrying while Redis, which the rate limits live in, comes back)."""
    for _ in range(50):
        await tab.send(type="comment.post", text=text, ref=text)
        answer = await tab.next("ack", "error")
        if answer["type"] == "ack":
            return int(answer["comment_id"])
        assert answer["code"] in {"internal", "rate_limited"}, answer
        await asyncio.sleep(0.2)
    raise AssertionError(f"{text!r} was never acknowledged")


async def sees(tab: Tab, comment_id: int) -> None:
    """Read until the tab has the comment (frames read past are kept for the order check)."""
    while any(f["type"] == "comment.created" and f["comment"]["id"] == comment_id for f in tab.frames) is False:
        await tab.next("comment.created")


async def test_it_keeps_delivering_across_a_redis_restart(
    two_servers: list[int], redis: RedisServer, room: Room, alice
) -> None:
    first, second = two_servers
    host = await open_tab(first, room.slug, await database_sync_to_async(session_cookie)(alice))
    viewer = await open_tab(second, room.slug)
    try:
        # both processes count the viewer on the second one (the host, on stage, is not a viewer)
        for tab in (host, viewer):
            while (await tab.next("viewers"))["count"] != 1:
                pass
        await reactions_flow(viewer, host, within=5)
        await reactions_flow(host, viewer, within=5)
        before = await comment(host, "before")
        for tab in (host, viewer):
            await sees(tab, before)

        redis.stop()
        # An event published while the daphnes' Redis is down (by a process whose layer works, as
        # the admin's would after a failover) still reaches both sockets: from the stored stream.
        down = await database_sync_to_async(comment_actions.post_comment)(room=room, author=alice, text="while down")
        published = time.monotonic()
        for tab in (host, viewer):
            await sees(tab, down.pk)
        print(f"an event published with Redis down reached both sockets in {time.monotonic() - published:.1f} s")
        await asyncio.sleep(1)
        redis.start()
        back_at = time.monotonic()

        # Ephemeral frames travel only through Redis: both ways, they flow again within seconds.
        to_host = await reactions_flow(viewer, host, within=RESUME_WITHIN)
        to_viewer = await reactions_flow(host, viewer, within=RESUME_WITHIN)
        print(f"reactions resumed {to_host:.1f} s / {time.monotonic() - back_at:.1f} s after Redis came back")

        after = [await comment(host, f"after {n}") for n in range(3)]
        for tab in (host, viewer):
            await sees(tab, after[-1])
        # every stream event reached every socket, once, in order
        for tab in (host, viewer):
            seqs = tab.seqs()
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
            texts = [f["comment"]["text"] for f in tab.frames if f["type"] == "comment.created"]
            assert texts == ["before", "while down", "after 0", "after 1", "after 2"]
        assert to_viewer < RESUME_WITHIN
    finally:
        await host.socket.close()
        await viewer.socket.close()
