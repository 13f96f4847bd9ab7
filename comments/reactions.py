"""Reactions (hearts and friends): not stored one by one, only counted.

Sockets add to a per-process tally (rooms.hub) that is published as one `reactions` frame at most
every 200 ms; the room's running totals live in one Redis hash per room (`HINCRBY`: atomic, so
every process's additions count), or, without Redis (one process), in the local cache.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from liverooms import process
from liverooms.errors import ActionError

KINDS = ("heart", "fire", "clap", "laugh", "wow")


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ActionError(
            "bad_request",
            _("Unknown reaction %(kind)r; use one of %(kinds)s.") % {"kind": kind[:40], "kinds": ", ".join(KINDS)},
        )
    return kind


def _hash(room_id: int) -> str:
    return f"liverooms:reactions:{room_id}"


def _key(room_id: int, kind: str) -> str:
    return f"reactions:{room_id}:{kind}"


async def add_to_totals(*, room_id: int, counts: dict[str, int]) -> None:
    """Add a tally to the room's totals. Django's `cache.aincr` is a get then a set (two
    processes adding at once lose one's count); HINCRBY adds inside Redis."""
    counts = {kind: count for kind, count in counts.items() if count}
    if not counts:
        return
    if settings.REDIS_URL:
        async with process.redis().pipeline(transaction=True) as pipe:
            for kind, count in counts.items():
                pipe.hincrby(_hash(room_id), kind, count)
            await pipe.execute()
        return
    # One process, a local-memory cache: its incr() holds the cache's lock (no I/O here).
    for kind, count in counts.items():
        cache.add(_key(room_id, kind), 0, timeout=None)
        cache.incr(_key(room_id, kind), count)


def reaction_totals(*, room_id: int) -> dict[str, int]:
    if settings.REDIS_URL:
        found = process.sync_redis().hgetall(_hash(room_id))
        totals = {key.decode(): int(value) for key, value in found.items()}  # type: ignore[union-attr]
        return {kind: totals.get(kind, 0) for kind in KINDS}
    stored = cache.get_many([_key(room_id, kind) for kind in KINDS])
    return {kind: int(stored.get(_key(room_id, kind), 0)) for kind in KINDS}
