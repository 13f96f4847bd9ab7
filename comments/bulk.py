"""Bulk moderation: ban an author and remove all their visible comments in a room or everywhere.

`open_ban_job` records the ban at once (the author cannot comment while the removal runs) and
opens the author's `ModerationJob` for that scope, or returns the one still open. `run_job` is
the body of the Celery task: it removes the comments batch by batch. Each batch is one
transaction that locks the job row (two runs of one job take turns), locks the comments it
removes, soft-removes them, appends one `comment.removed` per comment to its room's stream,
redacts their stored `comment.created` events and adds them to the job's count. A run killed
mid-way loses only its open batch (rolled back: no removal, no event, no count); running the
job again finishes the rest and never removes a comment, or publishes its removal, twice.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from comments.actions import ban_user, redact_comments
from comments.models import Comment, ModerationJob
from comments.pins import unpin_any
from rooms.catalogue import COMMENT_REMOVED
from rooms.events import append_events
from rooms.models import Room

# Comments removed per transaction: one UPDATE of the comments, then per room one UPDATE of its
# seq, a SELECT and one INSERT of the batch's events (rooms.events.append_events). A batch holds
# its rooms' row locks, so it also bounds how long new comments in those rooms wait.
BATCH_SIZE = 200


def open_ban_job(*, target: User, room: Room | None, by: User | None, reason: str = "") -> ModerationJob:
    """Ban `target` in `room` (everywhere if None) and return the open job that removes their
    visible comments there: a new one, or the one already queued or running for that scope."""
    with transaction.atomic():
        ban_user(user=target, room=room, by=by, reason=reason)
        job, _ = ModerationJob.objects.exclude(status=ModerationJob.Status.DONE).get_or_create(
            target=target, room=room, defaults={"moderator": by}
        )
    return job


def comments_in_scope(job: ModerationJob) -> QuerySet[Comment]:
    """The target's comments the job is about (removed or not)."""
    theirs = Comment.objects.filter(author_id=job.target_id)
    return theirs.filter(room_id=job.room_id) if job.room_id is not None else theirs


def run_job(*, job_id: int, batch_size: int = BATCH_SIZE) -> int:
    """Carry out the job to the end; returns its total removed count (0 if it no longer exists).
    Safe to run again, or twice at once: a finished job is left as it is."""
    ModerationJob.objects.filter(pk=job_id, status=ModerationJob.Status.QUEUED).update(
        status=ModerationJob.Status.RUNNING, started_at=timezone.now()
    )
    while remove_next_batch(job_id=job_id, batch_size=batch_size) is not None:
        pass
    return ModerationJob.objects.filter(pk=job_id).values_list("removed_count", flat=True).first() or 0


def remove_next_batch(*, job_id: int, batch_size: int = BATCH_SIZE) -> int | None:
    """Remove up to `batch_size` of the job's comments (oldest first) in one transaction and
    return how many; None once nothing is left (the job is then marked done) or the job is gone."""
    with transaction.atomic():
        job = ModerationJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status == ModerationJob.Status.DONE:
            return None
        now = timezone.now()
        batch = list(
            comments_in_scope(job)
            .filter(removed_at__isnull=True)
            .select_for_update()
            .order_by("id")
            .values_list("id", "room_id")[:batch_size]
        )
        if not batch:
            job.status, job.finished_at = ModerationJob.Status.DONE, now
            job.save(update_fields=["status", "finished_at"])
            return None
        Comment.objects.filter(pk__in=[pk for pk, _ in batch]).update(removed_at=now, removed_by_id=job.moderator_id)
        by_room: dict[int, list[int]] = {}
        for comment_id, room_id in batch:
            by_room.setdefault(room_id, []).append(comment_id)
        rooms = Room.objects.in_bulk(list(by_room))
        for room_id in sorted(by_room):  # rooms locked in id order
            removed = [(COMMENT_REMOVED, {"comment_id": pk}) for pk in sorted(by_room[room_id])]
            append_events(rooms[room_id], removed)
            unpin_any(room=rooms[room_id], comment_ids=by_room[room_id])
            redact_comments(room=rooms[room_id], comment_ids=by_room[room_id])
        job.removed_count += len(batch)
        if job.status == ModerationJob.Status.QUEUED:  # run by remove_next_batch alone
            job.status, job.started_at = ModerationJob.Status.RUNNING, now
        job.save(update_fields=["removed_count", "status", "started_at"])
        return len(batch)


def take_finished_jobs(*, moderator: User) -> list[ModerationJob]:
    """The moderator's finished jobs they have not been told about yet, marked as told now.
    Each job is handed out once, even to two of their requests at the same time."""
    finished = ModerationJob.objects.filter(
        moderator=moderator, status=ModerationJob.Status.DONE, notified_at__isnull=True
    ).select_related("target", "room")
    now = timezone.now()
    return [
        job
        for job in finished.order_by("finished_at", "id")
        if ModerationJob.objects.filter(pk=job.pk, notified_at__isnull=True).update(notified_at=now) == 1
    ]


def result_message(job: ModerationJob) -> str:
    """What the moderator is told when the job is done."""
    count = job.removed_count
    return f"Banned {job.target.username} {job.scope}; removed {count:,} comment{'' if count == 1 else 's'}."
