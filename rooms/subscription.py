"""A room hub's one subscription to the room's channel-layer group, and the loop that reads it.

A lost layer (Redis restarting, a network blip) does not end the loop: it retries with back-off
until the layer answers, joins the group again at once (a restarted Redis forgot it) and has the
missed events read from the stored stream; meanwhile each retry reads stored events too (the
stream lives in the database, not in Redis). Which run of Redis holds the membership is noted
(liverooms.layer.epoch), so a restart that the reader never noticed is caught too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.layers import get_channel_layer

from liverooms import layer
from rooms.events import room_group

logger = logging.getLogger("rooms.hub")  # one logger for the hub and its parts

RECONNECT_FIRST = 0.1  # seconds before the first retry of a lost channel layer, doubling...
RECONNECT_MAX = 2.0  # ...up to this


def cause(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class Subscription:
    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self.layer = get_channel_layer()
        self._channel = ""
        self._epoch = ""  # the run of the layer's Redis this hub joined its group on (liverooms.layer)

    async def open(self) -> None:
        self._channel = await self.layer.new_channel()
        await self.subscribe()

    async def subscribe(self) -> None:
        """Join the room's group (again: it is idempotent), noting which run of Redis holds it."""
        epoch = await layer.epoch()
        await self.layer.group_add(room_group(self.room_id), self._channel)
        self._epoch = epoch

    async def lost(self) -> bool:
        """Whether the layer's Redis restarted since the hub joined (and so forgot the group)."""
        return await layer.epoch() != self._epoch

    async def publish(self, message: dict[str, Any]) -> None:
        """Send a message to the room's group: every process's hub (this one's too)."""
        await self.layer.group_send(room_group(self.room_id), message)

    async def close(self) -> None:
        try:
            await self.layer.group_discard(room_group(self.room_id), self._channel)
        except Exception as error:  # the layer is down: its membership expires by itself
            logger.warning("room %s: could not leave the room group: %s", self.room_id, cause(error))

    async def read(
        self, dispatch: Callable[[dict[str, Any]], Awaitable[None]], read_stored: Callable[[], Awaitable[None]]
    ) -> None:
        """Hand what the room's group hears to `dispatch`, for as long as the hub lives."""
        while True:
            try:
                message = await self.layer.receive(self._channel)
            except Exception as error:
                await self._reconnect(error, read_stored)
                continue
            try:
                await dispatch(message)
            except Exception:
                logger.exception("room %s: could not handle %s", self.room_id, message.get("type"))

    async def _reconnect(self, error: Exception, read_stored: Callable[[], Awaitable[None]]) -> None:
        logger.warning("room %s: channel layer lost, reconnecting: %s", self.room_id, cause(error))
        lost_at, delay, attempts = time.monotonic(), RECONNECT_FIRST, 0
        while True:
            await asyncio.sleep(delay)
            attempts += 1
            with contextlib.suppress(Exception):
                await read_stored()
            try:
                await self.subscribe()
            except Exception as again:
                delay = min(delay * 2, RECONNECT_MAX)
                if attempts % 10 == 0:
                    logger.warning("room %s: channel layer still down: %s", self.room_id, cause(again))
                continue
            break
        with contextlib.suppress(Exception):
            await read_stored()
        logger.warning(
            "room %s: channel layer back after %.1f s; joined the room group again",
            self.room_id,
            time.monotonic() - lost_at,
        )
