"""Waiting in tests, in one place: poll a condition until it holds or the time is up (then fail
with what was awaited). Sync for tests that drive other processes (Celery workers, a browser);
async for tests on the event loop, with the condition run either on the loop or, when it reads
the database, in a worker thread."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from channels.db import database_sync_to_async


def wait_until(
    predicate: Callable[[], object], within: float = 60, what: str = "condition", every: float = 0.1
) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


async def wait_for(predicate: Callable[[], object], within: float = 5.0, what: str = "condition") -> None:
    """`predicate` on the event loop (no database), every 20 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def wait_for_db(predicate: Callable[[], object], within: float = 10, what: str = "condition") -> None:
    """`predicate` reads the database: run in a worker thread, every 50 ms."""
    deadline = asyncio.get_running_loop().time() + within
    while not await database_sync_to_async(predicate)():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
