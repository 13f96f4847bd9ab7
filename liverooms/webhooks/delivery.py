"""Deliver recorded events: one POST per attempt, in event order per (endpoint, room).

A chain is an endpoint's pending deliveries for one room. Only its head (the oldest pending
delivery) is ever sent; a worker claims it with a lease (a conditional UPDATE, no transaction
held while posting), posts it, records the attempt, and moves on to the next head. A failure
schedules the head again with exponential back-off and holds the rest of the chain behind it
until it succeeds or its retry window closes. Claims make duplicate or concurrent runs of the
same chain harmless; a killed worker's lease lapses and the periodic sweep picks the chain up.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from liverooms.webhooks import sender
from liverooms.webhooks.models import Attempt, Delivery, Endpoint
from liverooms.webhooks.signing import SIGNATURE_HEADER, signature_header

USER_AGENT = "liverooms-webhooks/1"


@dataclass(frozen=True)
class ChainRun:
    delivered: int
    retry_at: datetime | None  # when the chain's failed head is due again, if it failed
    more: bool = False  # stopped at its limit: the chain may have more due now


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: doubling, capped, jittered."""
    delay = min(settings.WEBHOOK_RETRY_BASE * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX)
    return float(delay * random.uniform(0.8, 1.2))  # noqa: S311 (jitter, not a secret)


def lease() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT + 30)


def chain(endpoint_id: int, room_key: int) -> QuerySet[Delivery]:
    return Delivery.objects.filter(endpoint_id=endpoint_id, room_id_key=room_key, status=Delivery.Status.PENDING)


def claim_head(endpoint_id: int, room_key: int, *, now: datetime) -> Delivery | None:
    """The chain's head, if it is due and nobody holds it; claimed for this worker."""
    head = chain(endpoint_id, room_key).order_by("event_id").first()
    if head is None or head.next_try_at > now or (head.lease_until is not None and head.lease_until > now):
        return None
    claimed = Delivery.objects.filter(
        pk=head.pk, status=Delivery.Status.PENDING, attempts=head.attempts, lease_until=head.lease_until
    ).update(lease_until=now + lease())
    if not claimed:
        return None  # another worker got there first
    return Delivery.objects.select_related("event__room", "endpoint").get(pk=head.pk)


def body_of(delivery: Delivery, *, timestamp: int) -> bytes:
    event = delivery.event
    payload = {
        "id": f"evt_{event.pk}",
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "room": event.room.slug if event.room is not None else None,
        "seq": event.seq,
        "data": event.data,
        "delivery": delivery.pk,
        "attempt": delivery.attempts + 1,
        "timestamp": timestamp,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def attempt(delivery: Delivery, *, now: datetime) -> bool:
    """POST a claimed delivery once, record the attempt, and settle or reschedule it."""
    endpoint = delivery.endpoint
    timestamp = int(time.time())
    body = body_of(delivery, timestamp=timestamp)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Liverooms-Event": delivery.event.type,
        "X-Liverooms-Event-Id": f"evt_{delivery.event_id}",
        "X-Liverooms-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: signature_header(endpoint.secret, body, timestamp),
    }
    started = time.monotonic()
    # The whole attempt (look-up, connect, TLS, send, status) within WEBHOOK_TIMEOUT, to a
    # checked public address; only the status and a summary of ours are kept, never the body.
    answer = sender.post(endpoint.url, body, headers, timeout=settings.WEBHOOK_TIMEOUT)
    status_code, error, ok = answer.status_code, answer.summary, answer.ok
    Attempt.objects.create(
        delivery=delivery,
        started_at=now,
        duration_ms=int((time.monotonic() - started) * 1000),
        status_code=status_code,
        error=error,
        ok=ok,
    )
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error
    delivery.lease_until = None
    if ok:
        delivery.status = Delivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
    else:
        delivery.next_try_at = timezone.now() + timedelta(seconds=backoff(delivery.attempts))
        until = delivery.retry_until or delivery.event.created_at + timedelta(seconds=settings.WEBHOOK_RETRY_FOR)
        if delivery.next_try_at > until:
            delivery.status = Delivery.Status.FAILED
    delivery.save(
        update_fields=[
            "attempts",
            "last_status_code",
            "last_error",
            "lease_until",
            "status",
            "delivered_at",
            "next_try_at",
        ]
    )
    return ok


def deliver_chain(endpoint_id: int, room_key: int, *, limit: int = 100) -> ChainRun:
    """Send the chain's due deliveries in order until one fails, none is due, or `limit`."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return ChainRun(delivered=0, retry_at=None)
    if not endpoint.is_active:
        chain(endpoint_id, room_key).update(
            status=Delivery.Status.FAILED, last_error="The endpoint was turned off.", lease_until=None
        )
        return ChainRun(delivered=0, retry_at=None)
    delivered = 0
    for _ in range(limit):
        head = claim_head(endpoint_id, room_key, now=timezone.now())
        if head is None:
            break
        if attempt(head, now=timezone.now()):
            delivered += 1
        elif head.status == Delivery.Status.PENDING:
            return ChainRun(delivered=delivered, retry_at=head.next_try_at)
        # else: its retry window closed; the chain goes on without it
    else:
        return ChainRun(delivered=delivered, retry_at=None, more=True)
    return ChainRun(delivered=delivered, retry_at=None)


def due_chains(*, now: datetime) -> list[tuple[int, int]]:
    """Chains with a delivery that is due and unclaimed (or whose claim lapsed)."""
    due = Delivery.objects.filter(status=Delivery.Status.PENDING, next_try_at__lte=now).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    )
    return sorted(set(due.values_list("endpoint_id", "room_id_key")))


def resend(deliveries: QuerySet[Delivery]) -> list[tuple[int, int]]:
    """Queue deliveries again (the admin's "Resend"), with a fresh retry window; returns their chains."""
    now = timezone.now()
    chains = sorted(set(deliveries.values_list("endpoint_id", "room_id_key")))
    deliveries.update(
        status=Delivery.Status.PENDING,
        next_try_at=now,
        lease_until=None,
        delivered_at=None,
        retry_until=now + timedelta(seconds=settings.WEBHOOK_RETRY_FOR),
    )
    return chains


async def backlog() -> int | None:
    """Deliveries still to make, for /metrics (liverooms.metrics.register_webhook_backlog); None
    when the database does not answer within 2 s: /healthz says so, the scrape still answers."""
    import asyncio

    from liverooms.db import db_async

    def count() -> int:
        return Delivery.objects.filter(status=Delivery.Status.PENDING).count()

    try:
        return await asyncio.wait_for(db_async(count)(), timeout=2)
    except Exception:
        return None
