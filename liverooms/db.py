"""Run ORM code from async code.

Like Channels' `database_sync_to_async` (old connections are closed before and after), but each
call runs on a worker thread of its own rather than the one "thread-sensitive" thread. That one
thread is busy for the whole of any request that passes sync middleware; a room hub or a peer
connection callback that outlives such a request and queued its query behind it would wait
forever. Our calls hold no state between them (each is its own transaction), so any thread will do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections

P = ParamSpec("P")
R = TypeVar("R")


def db_async(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`function` on a worker thread with a fresh-enough DB connection, awaitable."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=False)
