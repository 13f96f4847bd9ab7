"""Token buckets shared by every socket and process: in Redis when it is configured.

Without Redis there is one process (the laptop setup), so an in-process bucket is shared by all
its sockets. With Redis, one Lua script takes a token atomically, on Redis's clock.
"""

from __future__ import annotations

import math
import threading
import time
from functools import cache

from django.conf import settings
from redis.commands.core import AsyncScript, Script

from liverooms import process

_TAKE = """
local capacity = tonumber(ARGV[1])
local per_second = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_second)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / per_second
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / per_second) + 1)
-- a string: Redis turns a Lua number into an integer
return tostring(wait)
"""


class Bucket:
    """An in-process token bucket (one socket's reactions; every comment bucket without Redis)."""

    def __init__(self, *, capacity: float, per_second: float) -> None:
        self.capacity, self.per_second = capacity, per_second
        self.tokens, self.at = capacity, time.monotonic()

    def take(self) -> bool:
        return self.wait() == 0.0

    def wait(self) -> float:
        """Take a token and return 0.0, or return the seconds until one is there (taking none)."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens < 1:
            return (1 - self.tokens) / self.per_second
        self.tokens -= 1
        return 0.0


_local_lock = threading.Lock()
_local_buckets: dict[str, Bucket] = {}


@cache
def _take_script() -> AsyncScript | Script:
    return process.sync_redis().register_script(_TAKE)


def take_token(key: str, *, capacity: int, per_second: float) -> bool:
    """Take one token from bucket `key` (full at `capacity`, refilled at `per_second`)."""
    return token_wait(key, capacity=capacity, per_second=per_second) == 0.0


def token_wait(key: str, *, capacity: int, per_second: float) -> float:
    """Take one token from bucket `key` and return 0.0, or return the seconds until one is
    there (the `retry_after` of a `rate_limited` answer, the `Retry-After` of a 429)."""
    if settings.REDIS_URL:
        wait: bytes | str = _take_script()(keys=[f"liverooms:bucket:{key}"], args=[capacity, per_second])  # type: ignore[assignment]
        return float(wait.decode() if isinstance(wait, bytes) else wait)
    with _local_lock:
        bucket = _local_buckets.setdefault(key, Bucket(capacity=capacity, per_second=per_second))
        return bucket.wait()


def retry_after(wait: float) -> int:
    """Whole seconds to tell a caller to wait (at least 1)."""
    return max(1, math.ceil(wait))


@process.on_reset
def reset_buckets() -> None:
    """Forget the in-process buckets (liverooms.process.reset)."""
    with _local_lock:
        _local_buckets.clear()
