"""Celery tasks that deliver webhooks. Both are idempotent: a chain's head is claimed before it
is sent, so a duplicate or concurrent run finds nothing to do.

One task per chain (endpoint, room) waits in the queue at a time: `queue_delivery` sets a
short-lived "kick pending" marker in the cache with `add()`, and queues a task only if it set
it; the task clears the marker before it drains the chain, so an event recorded after that
queues the next task, and one recorded before is in what it drains. A burst of events in a room
is one queued task per endpoint, not one per event.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from liverooms.webhooks import delivery, retention

log = logging.getLogger(__name__)

# How long a marker may outlive a task that never ran (a lost message): until then that chain's
# new events queue nothing, and the periodic sweep (`deliver_due`, which ignores markers) is
# what picks the chain up.
KICK_TTL = 300


def kick_key(endpoint_id: int, room_key: int) -> str:
    return f"webhooks:kick:{endpoint_id}:{room_key}"


def queue_delivery(endpoint_id: int, room_key: int) -> bool:
    """Queue `deliver` for the chain unless a task for it is already queued and not started;
    True if this call queued one. Without a cache, it queues anyway (duplicates are harmless)."""
    key = kick_key(endpoint_id, room_key)
    try:
        if not cache.add(key, 1, timeout=KICK_TTL):
            return False
    except Exception:
        log.warning("webhooks: no kick marker (cache unavailable); queueing anyway", exc_info=True)
    try:
        deliver.delay(endpoint_id, room_key)
    except BaseException:
        _clear(key)  # nothing is queued: the next event must be able to queue
        raise
    return True


def _clear(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:
        log.warning("webhooks: kick marker not cleared (cache unavailable); it expires", exc_info=True)


@shared_task(name="webhooks.deliver")
def deliver(endpoint_id: int, room_key: int) -> int:
    """Send one chain's due deliveries in order; a failed head comes back after its back-off."""
    _clear(kick_key(endpoint_id, room_key))  # before draining (see the module's docstring)
    run = delivery.deliver_chain(endpoint_id, room_key)
    if run.retry_at is not None:
        deliver.apply_async((endpoint_id, room_key), eta=run.retry_at)
    elif run.more:
        queue_delivery(endpoint_id, room_key)  # stopped at its limit: the rest in a task of its own
    return run.delivered


@shared_task(name="webhooks.deliver_due")
def deliver_due() -> int:
    """Periodic (Celery beat): pick up chains whose retry was lost with a killed worker (or whose
    kick marker outlived a lost task: this ignores markers)."""
    chains = delivery.due_chains(now=timezone.now())
    for endpoint_id, room_key in chains:
        deliver.delay(endpoint_id, room_key)
    return len(chains)


@shared_task(name="webhooks.prune")
def prune() -> int:
    """Periodic: forget settled deliveries and their events past WEBHOOK_RETENTION_DAYS."""
    return retention.prune()
