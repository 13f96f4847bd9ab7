"""Whether the channel layer's Redis is still the one a subscriber joined its groups on.

Redis keeps the channel layer's group memberships in memory: a Redis that restarts without
persistence (or fails over to a replica that never saw them) forgets every group, silently. A
reader whose connection was dropped notices (the receive raises) but one whose client reconnected
by itself does not. Redis names each run of its server (`INFO server` → `run_id`), so a hub that
records the run it subscribed on can tell, with one cheap call per process per second, that it must
join its groups again.
"""

from __future__ import annotations

import time

from django.conf import settings

from liverooms.process import PerLoop, redis

CACHE_FOR = 1.0  # seconds one answer serves every hub of the process

_seen: PerLoop[tuple[float, str]] = PerLoop(lambda: (float("-inf"), ""))  # (when, run id) of the last answer


def _on_redis() -> bool:
    backend = str(settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", ""))
    return backend.startswith("channels_redis.") and bool(settings.REDIS_URL)


async def epoch() -> str:
    """The run of the layer's Redis server now ("" for a layer without one: it cannot forget).
    Raises the client's error while Redis is unreachable."""
    if not _on_redis():
        return ""
    now = time.monotonic()
    seen = _seen.get()
    if now - seen[0] < CACHE_FOR:
        return seen[1]
    info = await redis().info("server")
    run_id = str(info.get("run_id", ""))
    _seen.set((now, run_id))
    return run_id
