"""What the rooms app prunes, so a server that runs for months does not grow without bound.

- A live room's stream keeps its last RESUME_MAX_EVENTS events: a socket further behind gets a
  fresh `room.state` anyway (rooms.events.replay), so older rows serve nobody.
- An ended room keeps its stream EVENT_RETENTION_DAYS (a replay page and late resumes read it),
  then loses it; its comments, seats and figures stay.
- An ended room's unique-viewer rows go after VIEWER_RETENTION_DAYS: its figures were counted.

Deletes run in batches (one short transaction each), so pruning never holds a room's writers up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from rooms.events import RESUME_MAX_EVENTS
from rooms.models import Room, RoomEvent, RoomViewer

BATCH = 5000


@dataclass(frozen=True)
class Pruned:
    events: int
    viewers: int


def prune() -> Pruned:
    now = timezone.now()
    live = RoomEvent.objects.filter(room__status=Room.Status.LIVE, seq__lte=F("room__last_seq") - RESUME_MAX_EVENTS)
    ended_before = now - timedelta(days=settings.EVENT_RETENTION_DAYS)
    ended = RoomEvent.objects.filter(room__status=Room.Status.ENDED, room__ended_at__lt=ended_before)
    viewers_before = now - timedelta(days=settings.VIEWER_RETENTION_DAYS)
    viewers = RoomViewer.objects.filter(room__status=Room.Status.ENDED, room__ended_at__lt=viewers_before)
    return Pruned(events=delete_in_batches(live) + delete_in_batches(ended), viewers=delete_in_batches(viewers))


def delete_in_batches(rows: QuerySet) -> int:  # type: ignore[type-arg]
    """Delete the rows `rows` selects, BATCH at a time; returns how many."""
    deleted = 0
    while batch := list(rows.values_list("pk", flat=True)[:BATCH]):
        rows.model.objects.filter(pk__in=batch).delete()
        deleted += len(batch)
    return deleted
