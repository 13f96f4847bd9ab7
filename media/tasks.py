"""Celery tasks of recording and replays: they take ids (or nothing) and call media.recording.
Each is idempotent: a broker may deliver a task twice, and a second run finds nothing to do."""

from __future__ import annotations

import os

from celery import Task, shared_task
from django.conf import settings

from media.recording import compose, recovery, retention


@shared_task(name="media.tasks.prune_replays")
def prune_replays() -> int:
    """Periodic (Celery beat): delete replays older than REPLAY_DAYS."""
    return retention.prune()


_niced = False


@shared_task(name="media.tasks.compose_replay", bind=True)
def compose_replay(self: Task[[int], str], replay_id: int) -> str:
    """Compose the replay's 4-up MP4 (media.recording.compose), the worker at COMPOSE_NICE."""
    global _niced
    if not self.request.is_eager and not _niced and settings.COMPOSE_NICE:
        os.nice(settings.COMPOSE_NICE)  # once per worker process (it adds up)
        _niced = True
    return compose.compose_replay(replay_id=replay_id)


@shared_task(name="media.tasks.sweep_recordings")
def sweep_recordings() -> dict[str, int]:
    """Periodic: close and repair recordings whose writer died; mark replays of ended lives ready."""
    return recovery.sweep()
