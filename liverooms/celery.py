"""The Celery app. Tasks live in each app's `tasks.py` and call that app's actions."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liverooms.settings")

app = Celery("liverooms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule_periodic_tasks(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    # Beat keeps its schedule in a file; its folder may not exist yet (a fresh var/).
    Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)
    every = {
        "rooms.tasks.sweep_abandoned": settings.ROOM_SWEEP_INTERVAL,
        "rooms.tasks.refresh_all_stats": settings.ROOM_STATS_INTERVAL,
        "webhooks.deliver_due": settings.WEBHOOK_SWEEP_INTERVAL,
        "comments.tasks.requeue_stalled_jobs": settings.ROOM_SWEEP_INTERVAL,
        "rooms.tasks.prune": settings.RETENTION_INTERVAL,
        "webhooks.prune": settings.RETENTION_INTERVAL,
        "media.tasks.sweep_recordings": settings.RECORDING_SWEEP_INTERVAL,
        "media.tasks.prune_replays": settings.RETENTION_INTERVAL,
    }
    for task, seconds in every.items():
        sender.add_periodic_task(float(seconds), sender.signature(task), name=task)
