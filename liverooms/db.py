"""Run ORM code from async code.

Like Channels' `database_sync_to_async`, but each call runs on a worker thread of the loop's
executor rather than the one "thread-sensitive" thread. That one thread is busy for the whole of
any request that passes sync middleware; a room hub or a peer connection callback that outlives
such a request and queued its query behind it would wait forever. Our calls hold no state between
them (each is its own transaction), so any thread will do.

Connections: with PostgreSQL they come from the process's pool (settings: `OPTIONS["pool"]`).
A call borrows one on its first query and gives it back when it ends (closing a pooled connection
returns it), so a socket action does not open a connection, and a thread that ends holds none.
The pool checks a connection before lending it: a database that restarted costs no later call.
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
    """`function` on a worker thread with a pooled (or fresh) DB connection, awaitable."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()  # back to the pool (CONN_MAX_AGE is 0)

    return sync_to_async(run, thread_sensitive=False)
