"""Celery tasks of recording and replays: they take ids (or nothing) and call media.recording.
Each is idempotent: a broker may deliver a task twice, and a second run finds nothing to do."""

from __future__ import annotations

from celery import shared_task

from media.models import Replay
from media.recording import retention


@shared_task(name="media.tasks.prune_replays")
def prune_replays() -> int:
    """Periodic (Celery beat): delete replays older than REPLAY_DAYS."""
    return retention.prune()


@shared_task(name="media.tasks.compose_replay")
def compose_replay(replay_id: int) -> str:
    """Compose the replay's 4-up MP4 (media.recording.compose). Not built yet: says so."""
    Replay.objects.filter(pk=replay_id, composed_status=Replay.Composed.PENDING).update(
        composed_status=Replay.Composed.NONE
    )
    return "not built yet"
