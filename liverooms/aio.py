"""Long-lived asyncio work: started from inside a request, and stopped for sure.

A task copies the context of the code that creates it. Inside a Django request that context
holds the request's thread executor for `sync_to_async`; once the response is sent that executor
is gone, and a task that outlives the request (a room hub, a peer connection's callbacks) would
fail on its next database call. `background` and `detached` start such work in a fresh, empty
context; `cancel_and_wait` ends it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

logger = logging.getLogger(__name__)


def background(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """A task that belongs to the process, not to the request that happened to start it."""
    return asyncio.create_task(coro, context=contextvars.Context())


async def detached(coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro` in a fresh context, so every task it starts outlives the request cleanly."""
    return await background(coro)


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]], *, again_every: float = 0.5) -> list[BaseException]:
    """Cancel `tasks` and wait until every one has ended, cancelling again any that carries on.

    One `task.cancel(); await task` is not enough for a loop that awaits library code: a
    cancellation that lands as a callee's own result or timeout does (a thread's answer in
    `sync_to_async`, a Redis read's deadline) can be swallowed there, and the loop goes round
    again; the await then waits forever. (A hub's stop waited so, holding the lock every socket
    join of the process waits on.) Returns the errors the tasks ended with, other than the
    cancellation, for the caller to log."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    for task in pending:
        task.cancel()
    while pending:
        _done, pending = await asyncio.wait(pending, timeout=again_every)
        for task in pending:
            logger.info("%s carried on after its cancellation: cancelling it again", task.get_coro())
            task.cancel()
    return [error for task in tasks if not task.cancelled() and (error := task.exception()) is not None]
