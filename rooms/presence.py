"""How many sockets watch a room, across every process.

Each process's hub reports its local count once a second. Without Redis there is one process,
so the local count is the total. With Redis, each process writes `count:time` into one hash per
room and sums the entries written in the last few seconds (a crashed process drops out by itself).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time

from django.conf import settings

from liverooms import process
from liverooms.process import on_reset

STALE_AFTER = 5.0
_totals: dict[int, int] = {}  # the last total this process computed, per room
on_reset(_totals.clear)


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{id(asyncio.get_running_loop())}"


def _key(room_id: int) -> str:
    return f"liverooms:viewers:{room_id}"


async def report(room_id: int, local: int) -> int:
    """Record this process's count for the room and return the room's total."""
    if not settings.REDIS_URL:
        _totals[room_id] = local
        return local
    now = time.time()
    async with process.redis().pipeline(transaction=False) as pipe:
        pipe.hset(_key(room_id), _me(), f"{local}:{now}")
        pipe.expire(_key(room_id), 60)
        pipe.hgetall(_key(room_id))
        *_, entries = await pipe.execute()
    _totals[room_id] = _sum_fresh(entries, now)
    return _totals[room_id]


def _sum_fresh(entries: dict[bytes, bytes], now: float) -> int:
    total = 0
    for value in entries.values():
        count, _, at = value.decode().partition(":")
        if now - float(at) < STALE_AFTER:
            total += int(count)
    return total


def viewer_counts(room_ids: list[int]) -> dict[int, int]:
    """How many watch each room now (for pages; sockets get `viewers` frames instead)."""
    if not settings.REDIS_URL:
        return {room_id: _totals.get(room_id, 0) for room_id in room_ids}
    with process.sync_redis().pipeline(transaction=False) as pipe:
        for room_id in room_ids:
            pipe.hgetall(_key(room_id))
        found = pipe.execute()
    now = time.time()
    return {room_id: _sum_fresh(entries, now) for room_id, entries in zip(room_ids, found, strict=True)}


async def withdraw(room_id: int) -> None:
    """This process no longer has sockets in the room."""
    _totals.pop(room_id, None)
    if settings.REDIS_URL:
        await process.redis().hdel(_key(room_id), _me())  # type: ignore[misc]  # redis-py types sync and async as one
