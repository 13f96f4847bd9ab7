"""Webhook rows past WEBHOOK_RETENTION_DAYS go: settled deliveries (with their attempts), then
the events no delivery points at any more. Pending deliveries are never pruned."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from liverooms.webhooks.models import Delivery, Event
from rooms.retention import delete_in_batches


def prune() -> int:
    """Delete old settled deliveries and orphaned events; returns how many rows of each went."""
    before = timezone.now() - timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
    settled = Delivery.objects.exclude(status=Delivery.Status.PENDING).filter(created_at__lt=before)
    deliveries = delete_in_batches(settled)
    events = delete_in_batches(Event.objects.filter(created_at__lt=before, deliveries__isnull=True))
    return deliveries + events
