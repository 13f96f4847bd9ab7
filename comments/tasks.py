"""Celery tasks of the comments app: they take ids and call the comments domain functions."""

from celery import shared_task

from comments import bulk


# acks_late + reject_on_worker_lost (also the project defaults): a worker that dies mid-job does
# not swallow it; the broker delivers it again and the job finishes the rest (it is idempotent).
@shared_task(name="comments.tasks.run_moderation_job", acks_late=True, reject_on_worker_lost=True)
def run_moderation_job(job_id: int) -> int:
    """Remove a banned author's comments for a ModerationJob, in batches; returns the count."""
    return bulk.run_job(job_id=job_id)
