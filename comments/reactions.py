"""Reactions (hearts and friends): not stored one by one, only counted.

Sockets add to a per-process tally (rooms.hub) that is published as one `reactions` frame at most
every 200 ms; the room's running totals live in the cache (Redis in production).
"""

from __future__ import annotations

from django.core.cache import cache

from liverooms.errors import ActionError

KINDS = ("heart", "fire", "clap", "laugh", "wow")


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ActionError("bad_request", f"Unknown reaction {kind[:40]!r}; use one of {', '.join(KINDS)}.")
    return kind


def _key(room_id: int, kind: str) -> str:
    return f"reactions:{room_id}:{kind}"


async def add_to_totals(*, room_id: int, counts: dict[str, int]) -> None:
    for kind, count in counts.items():
        key = _key(room_id, kind)
        # add() then incr(): incr alone fails on a missing key; both are atomic in Redis.
        await cache.aadd(key, 0, timeout=None)
        await cache.aincr(key, count)


def reaction_totals(*, room_id: int) -> dict[str, int]:
    found = cache.get_many([_key(room_id, kind) for kind in KINDS])
    return {kind: int(found.get(_key(room_id, kind), 0)) for kind in KINDS}
