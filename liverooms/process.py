"""This process's state, kept in one place: one copy per event loop, and one reset for all of it.

A daphne process runs one event loop; the test suite runs each async test on a loop of its own.
What belongs to the process and holds loop-bound things (asyncio locks, tasks, Redis connections) is
a `PerLoop`: made on first use on the running loop, dropped with the loop, so a test's loop never
meets another's. What a process keeps across loops (in-process token buckets, a cached list of
webhook endpoints, Channels' layer instances) registers how to forget it with `on_reset`.

`reset()` forgets all of it at once, as a fresh process starts: the test suite calls it before
every test (conftest.py), instead of one reset per module.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import redis.asyncio as aioredis
from channels.layers import channel_layers
from django.conf import settings
from redis import Redis as SyncRedis

__all__ = ["PerLoop", "on_reset", "redis", "reset", "sync_redis"]

T = TypeVar("T")
Forget = TypeVar("Forget", bound=Callable[[], object])

_per_loop: list[PerLoop[Any]] = []
_resets: list[Callable[[], object]] = []


class PerLoop(Generic[T]):
    """One `T` per running event loop, made by `make()` on first use there."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()
        _per_loop.append(self)

    def get(self) -> T:
        """The running loop's `T` (raises RuntimeError outside a running loop)."""
        loop = asyncio.get_running_loop()
        value = self._by_loop.get(loop)
        if value is None:
            value = self._by_loop[loop] = self._make()
        return value

    def peek(self) -> T | None:
        """The running loop's `T` if one was made, else None; never makes one."""
        try:
            return self._by_loop.get(asyncio.get_running_loop())
        except RuntimeError:
            return None

    def set(self, value: T) -> None:
        """Replace the running loop's `T` (a cache entry, say)."""
        self._by_loop[asyncio.get_running_loop()] = value

    def clear(self) -> None:
        self._by_loop.clear()


def on_reset(forget: Forget) -> Forget:
    """Run `forget()` on every `reset()`: for state a process keeps across loops. Returns `forget`."""
    _resets.append(forget)
    return forget


def reset() -> None:
    """Forget every loop's state and everything registered with `on_reset`, as a fresh process starts."""
    for state in _per_loop:
        state.clear()
    for forget in _resets:
        forget()


@on_reset
def _forget_channel_layers() -> None:
    """Channels keeps one instance per layer alias for the whole process; its locks and queues belong
    to the loop that first used it (one loop per process in production, one per async test in the
    suite). Its registry is looked up here, at each reset: Channels replaces the dict itself when
    CHANNEL_LAYERS changes (a test's override_settings), and a reset that cleared the old dict would
    leave every later loop one instance, locked by hubs of loops long closed."""
    channel_layers.backends.clear()


_redis: PerLoop[dict[str, aioredis.Redis]] = PerLoop(dict)


def redis(url: str | None = None) -> aioredis.Redis:
    """This loop's asyncio client of `url` (default `REDIS_URL`): one connection pool per loop and
    server, shared by every module that talks to it."""
    url = url or settings.REDIS_URL
    clients = _redis.get()
    if url not in clients:
        clients[url] = aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return clients[url]


_sync_redis: dict[str, SyncRedis] = {}
_sync_lock = threading.Lock()


def sync_redis(url: str | None = None) -> SyncRedis:
    """The process's blocking client of `url` (default `REDIS_URL`), one for every thread (redis-py's
    pool is thread-safe)."""
    url = url or settings.REDIS_URL
    with _sync_lock:
        if url not in _sync_redis:
            _sync_redis[url] = SyncRedis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return _sync_redis[url]
