"""Celery tasks of the comments app: they take ids and call the comments domain functions."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from comments import bulk
from comments.models import ModerationJob

# A job still queued this long after it was opened lost its task (the broker was down when the
# admin queued it): the periodic sweep queues it again. Running a job twice removes nothing twice.
STALLED_AFTER = timedelta(minutes=1)


# acks_late + reject_on_worker_lost (also the project defaults): a worker that dies mid-job does
# not swallow it; the broker delivers it again and the job finishes the rest (it is idempotent).
@shared_task(name="comments.tasks.run_moderation_job", acks_late=True, reject_on_worker_lost=True)
def run_moderation_job(job_id: int) -> int:
    """Remove a banned author's comments for a ModerationJob, in batches; returns the count."""
    return bulk.run_job(job_id=job_id)


@shared_task(name="comments.tasks.requeue_stalled_jobs")
def requeue_stalled_jobs() -> int:
    """Periodic (Celery beat): queue again the moderation jobs whose task never reached a worker."""
    stalled = ModerationJob.objects.filter(
        status=ModerationJob.Status.QUEUED, created_at__lt=timezone.now() - STALLED_AFTER
    ).values_list("pk", flat=True)
    for job_id in stalled:
        run_moderation_job.delay(job_id)
    return len(stalled)
