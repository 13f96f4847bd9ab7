"""The abandoned-room sweep runs as a Celery task: eagerly on a laptop, on a real worker with Redis."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from rooms.models import Room
from rooms.tasks import end_abandoned_rooms
from tests.servers import database_url_of, running


def abandon(room: Room) -> None:
    Room.objects.filter(pk=room.pk).update(host_seen_at=timezone.now() - timedelta(hours=1))


@pytest.mark.django_db
@pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER, reason="a broker is configured: see the worker test")
def test_the_sweep_task_ends_an_abandoned_room(room: Room) -> None:
    abandon(room)
    assert end_abandoned_rooms.delay().get() == 1
    room.refresh_from_db()
    assert room.status == "ended"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: a real worker on a real broker")
def test_a_real_worker_ends_an_abandoned_room(room: Room) -> None:
    abandon(room)
    fresh = Room.objects.create(slug="still-here", title="still here", host=room.host)
    env = {"DATABASE_URL": database_url_of(connection.settings_dict), "CELERY_TASK_ALWAYS_EAGER": "0"}
    args = ["-m", "celery", "-A", "liverooms", "worker", "--pool=solo", "--concurrency=1", "-Q", "celery"]
    with running([*args, "--loglevel=INFO"], env=env):
        end_abandoned_rooms.delay()
        deadline = time.monotonic() + 60
        while Room.objects.get(pk=room.pk).status == "live" and time.monotonic() < deadline:
            time.sleep(0.2)
    assert Room.objects.get(pk=room.pk).status == "ended"
    assert Room.objects.get(pk=fresh.pk).status == "live"
