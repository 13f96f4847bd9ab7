"""Celery tasks that deliver webhooks. Both are idempotent: a chain's head is claimed before it
is sent, so a duplicate or concurrent run finds nothing to do."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from liverooms.webhooks import delivery


@shared_task(name="webhooks.deliver")
def deliver(endpoint_id: int, room_key: int) -> int:
    """Send one chain's due deliveries in order; a failed head comes back after its back-off."""
    run = delivery.deliver_chain(endpoint_id, room_key)
    if run.retry_at is not None:
        deliver.apply_async((endpoint_id, room_key), eta=run.retry_at)
    return run.delivered


@shared_task(name="webhooks.deliver_due")
def deliver_due() -> int:
    """Periodic (Celery beat): pick up chains whose retry was lost with a killed worker."""
    chains = delivery.due_chains(now=timezone.now())
    for endpoint_id, room_key in chains:
        deliver.delay(endpoint_id, room_key)
    return len(chains)
