"""The hearts timeline of a live, for its replay: how many reactions were sent each second.

The room's hub hands each tally it publishes (at most every 200 ms) to `note`, which adds it to
this process's count for that wall-clock second; `flush`, called with the hub's presence report
(every 10 s, and when the hub stops), writes those counts in one batch: one INSERT of the seconds
not seen yet, then one UPDATE per second adding to it (several processes add to the same row).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import F

from liverooms import process
from rooms.models import ReactionSecond, Room

_pending: dict[int, Counter[tuple[int, str]]] = {}
process.on_reset(_pending.clear)
_lock = threading.Lock()


def note(room_id: int, counts: Mapping[str, int], *, at: float | None = None) -> None:
    """Add one tally of the room's reactions to the second `at` (now)."""
    second = int(time.time() if at is None else at)
    with _lock:
        tally = _pending.setdefault(room_id, Counter())
        for kind, count in counts.items():
            if count > 0:
                tally[(second, "heart" if kind == "heart" else "other")] += count


def flush(*, room_id: int) -> int:
    """Write the room's counts noted here since the last flush; returns how many seconds."""
    with _lock:
        tally = _pending.pop(room_id, None)
    if not tally:
        return 0
    seconds: dict[int, Counter[str]] = {}
    for (second, kind), count in tally.items():
        seconds.setdefault(second, Counter())[kind] += count
    with transaction.atomic():
        ReactionSecond.objects.bulk_create(
            [ReactionSecond(room_id=room_id, second=_when(second)) for second in seconds], ignore_conflicts=True
        )
        for second, counts in sorted(seconds.items()):
            ReactionSecond.objects.filter(room_id=room_id, second=_when(second)).update(
                hearts=F("hearts") + counts["heart"], others=F("others") + counts["other"]
            )
    return len(seconds)


def _when(second: int) -> datetime:
    return datetime.fromtimestamp(second, tz=UTC)


def hearts_track(*, room: Room, started: datetime) -> list[list[float | int]]:
    """`[at, hearts, others]` per second that had any, `at` in seconds from `started`, in order."""
    rows = ReactionSecond.objects.filter(room=room, second__gte=started.replace(microsecond=0)).order_by("second")
    return [
        [round(max((row.second - started).total_seconds(), 0.0), 3), row.hearts, row.others]
        for row in rows.only("second", "hearts", "others")
        if row.hearts or row.others
    ]
