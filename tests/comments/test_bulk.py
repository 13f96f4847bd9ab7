"""Bulk moderation: ban at once, then remove every visible comment of the author in batches."""

import threading

import pytest
from django.db import connection

from comments import bulk
from comments.actions import post_comment, remove_comment
from comments.models import Ban, Comment, ModerationJob
from liverooms.errors import ActionError
from rooms.actions import create_room
from rooms.events import events_after
from rooms.models import Room, RoomEvent


def write_comments(room: Room, author, count: int) -> list[Comment]:
    """`count` visible comments, written straight to the table (posting each would hit the rate limit)."""
    return Comment.objects.bulk_create(Comment(room=room, author=author, text=f"spam {n}") for n in range(count))


def removals(room: Room) -> list[int]:
    """The comment ids of the room's `comment.removed` events, in `seq` order."""
    return [f["comment_id"] for f in events_after(room.pk, 0) if f["type"] == "comment.removed"]


@pytest.mark.django_db
def test_it_bans_at_once_and_keeps_one_open_job_per_author_and_scope(room: Room, carol, mod) -> None:
    job = bulk.open_ban_job(target=carol, room=room, by=mod)
    assert Ban.objects.filter(user=carol, room=room, created_by=mod).exists()
    with pytest.raises(ActionError) as refused:
        post_comment(room=room, author=carol, text="still here?")
    assert refused.value.code == "banned"
    assert (job.status, job.moderator, job.removed_count) == ("queued", mod, 0)
    assert bulk.open_ban_job(target=carol, room=room, by=mod) == job
    everywhere = bulk.open_ban_job(target=carol, room=None, by=mod)
    assert everywhere != job
    assert Ban.objects.filter(user=carol).count() == 2
    assert bulk.open_ban_job(target=carol, room=None, by=mod) == everywhere
    bulk.run_job(job_id=job.pk)
    assert bulk.open_ban_job(target=carol, room=room, by=mod) != job  # a finished job is not reopened


@pytest.mark.django_db
def test_it_removes_in_batches_with_one_event_per_comment_in_order(room: Room, bob, carol, mod) -> None:
    other = create_room(host=bob, title="Bob live")
    here = write_comments(room, carol, 13)
    there = write_comments(other, carol, 12)
    innocent = post_comment(room=room, author=bob, text="not spam")
    job = bulk.open_ban_job(target=carol, room=None, by=mod)
    sizes = []
    while (size := bulk.remove_next_batch(job_id=job.pk, batch_size=10)) is not None:
        sizes.append(size)
    assert sizes == [10, 10, 5]
    assert removals(room) == [c.pk for c in here]
    assert removals(other) == [c.pk for c in there]
    for r in (room, other):
        assert [f["seq"] for f in events_after(r.pk, 0)] == list(range(1, Room.objects.get(pk=r.pk).last_seq + 1))
    assert not Comment.objects.filter(author=carol, removed_at__isnull=True).exists()
    assert set(Comment.objects.filter(author=carol).values_list("removed_by", flat=True)) == {mod.pk}
    innocent.refresh_from_db()
    assert innocent.removed_at is None
    job.refresh_from_db()
    assert (job.status, job.removed_count) == ("done", 25)
    assert job.finished_at is not None
    assert job.started_at is not None


@pytest.mark.django_db
def test_a_room_job_leaves_the_authors_comments_elsewhere(room: Room, bob, carol, mod) -> None:
    other = create_room(host=bob, title="Bob live")
    write_comments(room, carol, 3)
    (kept,) = write_comments(other, carol, 1)
    job = bulk.open_ban_job(target=carol, room=room, by=mod)
    assert bulk.run_job(job_id=job.pk) == 3
    assert list(Comment.objects.filter(author=carol, removed_at__isnull=True)) == [kept]
    assert events_after(other.pk, 0) == []
    assert not Ban.objects.filter(user=carol, room=other).exists()


@pytest.mark.django_db
def test_running_a_job_again_removes_nothing_twice(room: Room, carol, mod) -> None:
    comments = write_comments(room, carol, 30)
    job = bulk.open_ban_job(target=carol, room=room, by=mod)
    assert bulk.remove_next_batch(job_id=job.pk, batch_size=7) == 7  # a worker died after its first batch
    assert bulk.run_job(job_id=job.pk, batch_size=7) == 30  # the redelivered task
    assert bulk.run_job(job_id=job.pk, batch_size=7) == 30  # and a duplicate delivery
    assert removals(room) == [c.pk for c in comments]
    assert RoomEvent.objects.filter(room=room).count() == 30


@pytest.mark.django_db
def test_comments_removed_meanwhile_are_not_removed_again(room: Room, carol, mod) -> None:
    comments = write_comments(room, carol, 5)
    job = bulk.open_ban_job(target=carol, room=room, by=mod)
    remove_comment(comment=comments[2], by=mod)
    assert bulk.run_job(job_id=job.pk) == 4
    assert sorted(removals(room)) == sorted(c.pk for c in comments)


@pytest.mark.django_db
def test_a_job_that_is_gone_is_nothing_to_do() -> None:
    assert bulk.run_job(job_id=987654) == 0
    assert bulk.remove_next_batch(job_id=987654) is None


@pytest.mark.django_db
def test_the_moderator_is_told_each_finished_job_once(room: Room, bob, carol, mod) -> None:
    write_comments(room, carol, 2)
    write_comments(room, bob, 1)
    here = bulk.open_ban_job(target=carol, room=room, by=mod)
    everywhere = bulk.open_ban_job(target=bob, room=None, by=mod)
    assert bulk.take_finished_jobs(moderator=mod) == []  # nothing finished yet
    bulk.run_job(job_id=here.pk)
    bulk.run_job(job_id=everywhere.pk)
    told = bulk.take_finished_jobs(moderator=mod)
    assert [bulk.result_message(job) for job in told] == [
        "Banned carol from Alice live; removed 2 comments.",
        "Banned bob everywhere; removed 1 comment.",
    ]
    assert bulk.take_finished_jobs(moderator=mod) == []
    assert bulk.take_finished_jobs(moderator=carol) == []


def run_at_once(*job_ids: int, batch_size: int) -> None:
    """Run the jobs in threads (each with its own database connection), all starting together."""
    start = threading.Barrier(len(job_ids))
    failures: list[BaseException] = []

    def run(job_id: int) -> None:
        try:
            start.wait()
            bulk.run_job(job_id=job_id, batch_size=batch_size)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job_id,)) for job_id in job_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_job_at_once_remove_each_comment_once(room: Room, carol, mod) -> None:
    comments = write_comments(room, carol, 120)
    job = bulk.open_ban_job(target=carol, room=room, by=mod)
    run_at_once(job.pk, job.pk, batch_size=10)
    assert removals(room) == [c.pk for c in comments]
    job.refresh_from_db()
    assert (job.status, job.removed_count) == ("done", 120)


@pytest.mark.django_db(transaction=True)
def test_a_room_job_and_an_everywhere_job_at_once_remove_each_comment_once(room: Room, bob, carol, mod) -> None:
    other = create_room(host=bob, title="Bob live")
    here, there = write_comments(room, carol, 80), write_comments(other, carol, 40)
    in_room = bulk.open_ban_job(target=carol, room=room, by=mod)
    everywhere = bulk.open_ban_job(target=carol, room=None, by=mod)
    run_at_once(in_room.pk, everywhere.pk, batch_size=10)
    assert sorted(removals(room)) == [c.pk for c in here]
    assert removals(other) == [c.pk for c in there]
    counts = ModerationJob.objects.filter(pk__in=[in_room.pk, everywhere.pk]).values_list("removed_count", flat=True)
    assert sum(counts) == 120
