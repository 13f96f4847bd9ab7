"""The hub on a Redis channel layer whose Redis restarts (in this process, on our own redis-server):
its reader comes back and joins the room group again, and it stops cleanly while Redis is down."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator

import pytest
from channels.layers import channel_layers, get_channel_layer
from django.test import override_settings

from rooms.events import room_group
from rooms.hub import RoomHub
from rooms.models import Room
from rooms.wire import Frame
from tests.faults.services import RedisServer, redis_server

pytestmark = pytest.mark.django_db(transaction=True)


class Tab:
    user_id = None
    viewer_key = "anon:tab"

    def __init__(self) -> None:
        self.frames: list[dict[str, object]] = []

    def write_now(self, seq: int | None, frame: Frame) -> bool:
        self.frames.append(json.loads(frame))
        return True

    async def on_event(self, seq: int, text: str) -> None:
        self.frames.append(json.loads(text))

    async def on_ephemeral(self, text: str) -> None:
        self.frames.append(json.loads(text))


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """Our own Redis for the channel layer. Request it after `room`: some modules keep the client of
    the first REDIS_URL they see (liverooms.ratelimit), and that must stay the suite's."""
    with redis_server() as server:
        layers = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [{"address": server.url, "socket_timeout": None}], "prefix": "liverooms"},
            }
        }
        with override_settings(CHANNEL_LAYERS=layers, REDIS_URL=server.url):
            channel_layers.backends.clear()
            yield server
        channel_layers.backends.clear()


async def hears_reactions(hub: RoomHub, tab: Tab, within: float) -> float:
    """Send the room group a tally (as another process's hub does) until the tab gets `reactions`."""
    layer = get_channel_layer()
    assert layer is not None
    started = time.monotonic()
    while time.monotonic() - started < within:
        with contextlib.suppress(Exception):  # Redis still coming up: the send is lost, as anyone's
            await layer.group_send(room_group(hub.room_id), {"type": "room.reactions", "counts": {"heart": 1}})
        await asyncio.sleep(0.25)
        if any(frame["type"] == "reactions" for frame in tab.frames):
            return time.monotonic() - started
    raise AssertionError(f"the hub heard no reactions within {within} s")


async def test_it_joins_the_room_group_again_after_redis_restarts(room: Room, redis: RedisServer) -> None:
    hub, tab = RoomHub(room.pk, room.host_id), Tab()
    await hub.start()
    hub.sockets.add(tab)
    try:
        await hears_reactions(hub, tab, within=5)
        redis.stop()  # forgets the group: no persistence
        await asyncio.sleep(1)
        redis.start()
        tab.frames.clear()
        took = await hears_reactions(hub, tab, within=10)
        print(f"the hub heard the group again {took:.1f} s after Redis came back")
    finally:
        await hub.stop()


async def test_it_stops_while_redis_is_down(room: Room, redis: RedisServer) -> None:
    hub = RoomHub(room.pk, room.host_id)
    await hub.start()
    hub.add_reaction("heart")  # a tally still to publish when it stops
    redis.stop()
    await asyncio.wait_for(hub.stop(), 15)
    assert all(task.done() for task in hub._tasks)
