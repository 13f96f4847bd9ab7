"""The bulk-removal task: in process without a broker; on real Celery workers on Redis, killed mid-job."""

import os
import signal
import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection

from comments.bulk import BATCH_SIZE, open_ban_job
from comments.models import Comment, ModerationJob
from comments.tasks import run_moderation_job
from rooms.events import events_after
from rooms.models import Room
from tests.servers import database_url_of, running
from tests.waiting import wait_until

# The worker removes a batch within milliseconds: look that often, to stop it mid-job.
wait_for = partial(wait_until, within=60, what="the moderation job", every=0.005)

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: a real worker on a real broker")


def write_comments(room: Room, author: User, count: int) -> list[Comment]:
    return Comment.objects.bulk_create(Comment(room=room, author=author, text=f"spam {n}") for n in range(count))


def removed_ids(room: Room) -> list[int]:
    return [f["comment_id"] for f in events_after(room.pk, 0) if f["type"] == "comment.removed"]


def worker_args(pool: str) -> list[str]:
    return ["-m", "celery", "-A", "liverooms", "worker", f"--pool={pool}", "--concurrency=1", "-Q", "celery"]


def worker_env() -> dict[str, str]:
    return {"DATABASE_URL": database_url_of(connection.settings_dict), "CELERY_TASK_ALWAYS_EAGER": "0"}


def removed_so_far(job: ModerationJob) -> int:
    return ModerationJob.objects.values_list("removed_count", flat=True).get(pk=job.pk)


def pool_children(worker: subprocess.Popen[bytes]) -> list[int]:
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    return [int(pid) for pid in children]


@pytest.fixture
def clean_broker() -> Iterator[None]:
    """Leave no task message behind in the test's Redis database (a killed worker's unacked one)."""
    yield
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")
    client.close()


@pytest.mark.django_db
@pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER, reason="a broker is configured: see the worker tests")
def test_the_task_carries_out_the_job_in_process(room: Room, carol: User, mod: User) -> None:
    comments = write_comments(room, carol, BATCH_SIZE + 3)
    job = open_ban_job(target=carol, room=room, by=mod)
    assert run_moderation_job.delay(job.pk).get() == BATCH_SIZE + 3
    assert run_moderation_job.delay(job.pk).get() == BATCH_SIZE + 3  # delivered twice: nothing more
    assert removed_ids(room) == [c.pk for c in comments]


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_a_pool_process_killed_mid_job_gets_the_task_again_and_finishes(
    room: Room, bob: User, carol: User, mod: User, clean_broker
) -> None:
    spam = write_comments(room, carol, 1000)
    (innocent,) = write_comments(room, bob, 1)
    job = open_ban_job(target=carol, room=room, by=mod)
    with running([*worker_args("prefork"), "--loglevel=INFO"], env=worker_env()) as worker:
        run_moderation_job.delay(job.pk)
        wait_for(lambda: removed_so_far(job) > 0)
        (child,) = pool_children(worker)
        os.kill(child, signal.SIGKILL)  # acks_late + reject_on_worker_lost: the broker delivers it again
        killed_at = removed_so_far(job)
        wait_for(lambda: ModerationJob.objects.get(pk=job.pk).status == "done")
    assert 0 < killed_at < 1000
    assert removed_ids(room) == [c.pk for c in spam]
    assert not Comment.objects.filter(author=carol, removed_at__isnull=True).exists()
    assert Comment.objects.get(pk=innocent.pk).removed_at is None
    assert ModerationJob.objects.get(pk=job.pk).removed_count == 1000


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_then_a_rerun_and_a_duplicate_remove_each_comment_once(
    room: Room, carol: User, mod: User, clean_broker
) -> None:
    spam = write_comments(room, carol, 1000)
    job = open_ban_job(target=carol, room=room, by=mod)
    with running([*worker_args("solo"), "--loglevel=INFO"], env=worker_env()) as worker:
        run_moderation_job.delay(job.pk)
        wait_for(lambda: removed_so_far(job) > 0)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    killed_at = removed_so_far(job)
    assert 0 < killed_at < 1000
    assert len(removed_ids(room)) == killed_at  # whole batches only: each removal has its event
    assert Comment.objects.filter(author=carol, removed_at__isnull=True).count() == 1000 - killed_at
    broker = redis.Redis.from_url(settings.REDIS_URL)
    assert broker.hlen("unacked") == 1  # the killed worker's delivery, back after the visibility timeout
    with running([*worker_args("solo"), "--loglevel=INFO"], env=worker_env()):
        run_moderation_job.delay(job.pk)  # the moderator runs the job again ...
        run_moderation_job.delay(job.pk)  # ... and the broker delivers it twice
        wait_for(lambda: ModerationJob.objects.get(pk=job.pk).status == "done")
        wait_for(lambda: broker.llen("celery") == 0 and broker.hlen("unacked") == 1)  # both ran and were acked
    broker.close()
    assert removed_ids(room) == [c.pk for c in spam]
    assert not Comment.objects.filter(author=carol, removed_at__isnull=True).exists()
    assert ModerationJob.objects.get(pk=job.pk).removed_count == 1000


@pytest.mark.django_db
@pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER, reason="a broker is configured: see the worker tests")
def test_a_job_whose_task_was_lost_is_run_by_the_sweep(room: Room, carol: User, mod: User) -> None:
    """The admin opened the job while the broker was down: its task never left. The sweep runs it."""
    from datetime import timedelta

    from django.utils import timezone

    from comments.tasks import requeue_stalled_jobs

    comments = write_comments(room, carol, 3)
    job = open_ban_job(target=carol, room=room, by=mod)
    assert requeue_stalled_jobs.delay().get() == 0  # just opened: its own task may still be on its way
    ModerationJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert requeue_stalled_jobs.delay().get() == 1
    assert removed_ids(room) == [c.pk for c in comments]
    assert requeue_stalled_jobs.delay().get() == 0  # done: nothing to queue again
