"""Run ORM code from async code: a typed face on Channels' database_sync_to_async."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar, cast

from channels.db import database_sync_to_async

P = ParamSpec("P")
R = TypeVar("R")


def db_async(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`function` in a worker thread with a fresh-enough DB connection, awaitable."""
    return cast(Callable[P, Awaitable[R]], database_sync_to_async(function))
