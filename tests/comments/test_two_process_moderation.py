"""Slow mode and timeouts on two daphne processes (PostgreSQL + Redis): a rule set through one
process holds for comments sent through the other, and a lift on either ends it on both."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from rooms.models import Room
from tests.servers import daphne
from tests.sockets import session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL",
    ),
]

# Room for the test's own comments and actions under the per-user buckets: only the rules under
# test (slow mode, timeouts) may refuse anything here.
ROOMY = {"COMMENT_BURST": "50", "ACTION_BURST": "50", "STAGE_ACTION_BURST": "50"}


@pytest.fixture
def two_servers(transactional_db: None) -> Iterator[list[int]]:
    with ExitStack() as stack:
        servers = [
            stack.enter_context(daphne(connection.settings_dict, REDIS_URL=settings.REDIS_URL, **ROOMY)) for _ in "ab"
        ]
        yield [served.port for served in servers]


class Tab:
    def __init__(self, socket: Any, name: str) -> None:
        self.socket, self.name, self.asked = socket, name, 0
        self.seen: list[dict[str, Any]] = []

    async def ask(self, type: str, **fields: Any) -> dict[str, Any]:
        self.asked += 1
        ref = f"{self.name}-{self.asked}"
        await self.socket.send(json.dumps({"type": type, "ref": ref, **fields}))
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), 10))
            if frame["type"] in {"ack", "error"} and frame.get("ref") == ref:
                return frame
            self.seen.append(frame)

    async def next(self, kind: str) -> dict[str, Any]:
        for index, frame in enumerate(self.seen):
            if frame["type"] == kind:
                return self.seen.pop(index)
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), 10))
            if frame["type"] == kind:
                return frame
            self.seen.append(frame)

    async def told(self, until: str | None) -> None:
        """The next `user.timed_out` saying `until` (earlier ones passed by)."""
        while (await self.next("user.timed_out"))["until"] != until:
            pass

    async def close(self) -> None:
        await self.socket.close()


async def open_tab(port: int, room: Room, user: Any, name: str) -> Tab:
    cookie = await database_sync_to_async(session_cookie)(user)
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/rooms/{room.slug}/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": f"sessionid={cookie}"},
    )
    tab = Tab(socket, name)
    assert (await tab.next("room.state"))["type"] == "room.state"
    return tab


async def test_slow_mode_and_timeouts_hold_across_processes(two_servers: list[int], room: Room, alice, carol) -> None:
    first, second = two_servers
    host_a, host_b = await open_tab(first, room, alice, "host-a"), await open_tab(second, room, alice, "host-b")
    carol_a, carol_b = await open_tab(first, room, carol, "carol-a"), await open_tab(second, room, carol, "carol-b")
    try:
        # Slow mode set through process one holds for comments through process two, and the wait
        # after a comment on one holds on the other.
        assert (await host_a.ask("comments.set", slow_mode=30))["type"] == "ack"
        assert (await carol_b.next("room.updated"))["room"]["slow_mode"] == 30
        assert (await carol_b.ask("comment.post", text="first through two"))["type"] == "ack"
        again = await carol_b.ask("comment.post", text="again through two")
        assert again["code"] == "rate_limited"
        assert 25 <= again["retry_after"] <= 30
        other = await carol_a.ask("comment.post", text="then through one")
        assert other["code"] == "rate_limited"
        assert 25 <= other["retry_after"] <= 30
        # turned off through process two: both let her comment at once
        assert (await host_b.ask("comments.set", slow_mode=0))["type"] == "ack"
        while (await carol_a.next("room.updated"))["room"].get("slow_mode") != 0:
            pass  # the first one set it to 30
        assert (await carol_a.ask("comment.post", text="slow mode is off"))["type"] == "ack"
        assert (await carol_b.ask("comment.post", text="off here too"))["type"] == "ack"

        # A timeout given through process one refuses her comments through process two, and her
        # sockets on both processes are told until when.
        timed = await host_a.ask("user.timeout", username="carol", seconds=600)
        for tab in (carol_a, carol_b):
            await tab.told(timed["until"])
        refused = await carol_b.ask("comment.post", text="still here")
        assert (refused["code"], refused["until"]) == ("banned", timed["until"])
        assert (await carol_a.ask("comment.post", text="and here"))["code"] == "banned"
        # lifted through process two: she comments through process one
        assert (await host_b.ask("user.timeout", username="carol", seconds=0))["until"] is None
        for tab in (carol_a, carol_b):
            await tab.told(None)
        assert (await carol_a.ask("comment.post", text="free again"))["type"] == "ack"

        # and the other way round: given through two, lifted through one
        timed = await host_b.ask("user.timeout", username="carol", seconds=60)
        await carol_a.told(timed["until"])
        assert (await carol_a.ask("comment.post", text="timed out again"))["code"] == "banned"
        assert (await host_a.ask("user.timeout", username="carol", seconds=0))["type"] == "ack"
        await carol_b.told(None)
        assert (await carol_b.ask("comment.post", text="free through two"))["type"] == "ack"
    finally:
        for tab in (host_a, host_b, carol_a, carol_b):
            await tab.close()
