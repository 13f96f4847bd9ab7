"""The Celery app. Tasks live in each app's `tasks.py` and call that app's actions."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liverooms.settings")

app = Celery("liverooms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule_periodic_tasks(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    sender.add_periodic_task(
        float(settings.ROOM_SWEEP_INTERVAL),
        sender.signature("rooms.tasks.end_abandoned_rooms"),
        name="end abandoned rooms",
    )
