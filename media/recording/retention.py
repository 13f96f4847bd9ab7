"""Replays are kept REPLAY_DAYS after their live ended, then their files are deleted (the rows
stay, with `deleted_at`, as the record of what was recorded; `recording.deleted` goes out)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from media.models import Replay
from media.recording.actions import delete_replay


def expired(now: datetime | None = None) -> list[Replay]:
    cutoff = (now or timezone.now()) - timedelta(days=settings.REPLAY_DAYS)
    return list(
        Replay.objects.filter(deleted_at__isnull=True, room__ended_at__lt=cutoff).select_related("room").order_by("pk")
    )


def prune(*, now: datetime | None = None) -> int:
    """Delete every replay past its retention; safe to run twice at once (each re-checks under lock)."""
    return sum(delete_replay(replay=replay, reason="retention") for replay in expired(now))
