"""Long-lived asyncio work started from inside a request.

A task copies the context of the code that creates it. Inside a Django request that context
holds the request's thread executor for `sync_to_async`; once the response is sent that executor
is gone, and a task that outlives the request (a room hub, a peer connection's callbacks) would
fail on its next database call. These helpers start such work in a fresh, empty context.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def background(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """A task that belongs to the process, not to the request that happened to start it."""
    return asyncio.create_task(coro, context=contextvars.Context())


async def detached(coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro` in a fresh context, so every task it starts outlives the request cleanly."""
    return await background(coro)
