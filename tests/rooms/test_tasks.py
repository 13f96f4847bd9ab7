"""The rooms' background work runs as Celery tasks: eagerly on a laptop's test run, and on a real
worker + beat with Redis (CI's PostgreSQL + Redis run)."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from comments.actions import post_comment
from rooms import actions
from rooms.models import Room, RoomEvent, RoomStats
from rooms.seats import seat_user
from rooms.tasks import refresh_all_stats, sweep_abandoned
from tests.servers import database_url_of, running


def abandon(room: Room) -> None:
    Room.objects.filter(pk=room.pk).update(host_seen_at=timezone.now() - timedelta(hours=1))


@pytest.mark.django_db
@pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER, reason="a broker is configured: see the worker test")
def test_the_sweep_task_ends_an_abandoned_room(room: Room) -> None:
    abandon(room)
    assert sweep_abandoned.delay().get() == {"rooms_ended": 1, "seats_freed": 0}
    room.refresh_from_db()
    assert room.status == "ended"


@pytest.mark.django_db
@pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER, reason="a broker is configured")
def test_the_stats_task_counts_every_room_that_needs_it(room: Room, carol: User) -> None:
    post_comment(room=room, author=carol, text="hello")
    actions.end_room(room=room)
    assert refresh_all_stats.delay().get() == 1
    assert RoomStats.objects.get(room=room).comments == 1
    assert refresh_all_stats.delay().get() == 0  # counted since it ended: nothing to do


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: a real worker and beat on a real broker")
def test_a_real_worker_and_beat_end_a_room_its_host_left(alice: User, bob: User) -> None:
    grace, sweep = 3, 1
    left = actions.create_room(host=alice, title="left")
    seat_user(room=left, user=bob, index=1)
    Room.objects.filter(pk=left.pk).update(host_seen_at=timezone.now())
    left_at = time.monotonic()
    env = {
        "DATABASE_URL": database_url_of(connection.settings_dict),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "ROOM_ABANDONED_AFTER": str(grace),
        "ROOM_SWEEP_INTERVAL": str(sweep),
    }
    args = [
        "-m",
        "celery",
        "-A",
        "liverooms",
        "worker",
        "--beat",
        "--pool=solo",
        "--without-mingle",
        "--without-gossip",
    ]
    with running([*args, "--loglevel=INFO"], env=env):
        deadline = left_at + 60
        while Room.objects.get(pk=left.pk).status == "live" and time.monotonic() < deadline:
            time.sleep(0.1)
        ended_after = time.monotonic() - left_at
    assert Room.objects.get(pk=left.pk).status == "ended"
    # Within the grace and one sweep (and the worker's start-up), not before the grace.
    assert grace <= ended_after <= grace + sweep + 15
    assert list(RoomEvent.objects.filter(room=left).values_list("type", flat=True)) == ["seat.updated", "room.ended"]
