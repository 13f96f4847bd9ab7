from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from liverooms.webhooks.addresses import Refused, check_url

EVENT_TYPES = (
    ("room.started", "room.started: a host went live"),
    ("room.ended", "room.ended: a live ended"),
    ("seat.updated", "seat.updated: a guest joined or left, publishing, camera or mic changed"),
    ("comment.created", "comment.created: a comment was posted (or restored)"),
    ("comment.removed", "comment.removed: a moderator removed a comment"),
    ("viewer.peak", "viewer.peak: a room reached a new peak of viewers"),
    ("question.created", "question.created: a viewer asked the host a question (Q&A)"),
    ("question.spotlighted", "question.spotlighted: the host showed a question on every screen (or cleared it)"),
    ("question.closed", "question.closed: a question was answered or dismissed"),
    ("comment.held", "comment.held: a comment with a word set to hold waits for review"),
    ("comment.approved", "comment.approved: a held comment was approved (its comment.created follows)"),
    ("user.timed_out", "user.timed_out: the host or a moderator timed a user out of a live's comments (or lifted it)"),
    ("recording.ready", "recording.ready: a live's replay can be watched (its recordings are closed)"),
    ("recording.deleted", "recording.deleted: a replay's files were deleted (by its host, or after REPLAY_DAYS)"),
)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Endpoint(models.Model):
    """An operator's URL that receives events. Never deleted (its deliveries are the record):
    turn it off with `is_active`."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100, default=new_secret, help_text="Signs every delivery (HMAC-SHA256).")
    event_types = models.JSONField(default=list, help_text="The event types this endpoint receives.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["url"]

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        """Only public http(s) addresses (its host resolved now; each delivery checks again)."""
        super().clean()
        if not self.url:
            return  # the field's own validation says what is wrong
        try:
            check_url(self.url)
        except Refused as refused:
            raise ValidationError({"url": str(refused)}) from None


class Event(models.Model):
    """One event for webhooks, written in the same transaction as the change it describes."""

    type = models.CharField(max_length=40)
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # The room's stream position for events that are also in the room's stream.
    seq = models.PositiveBigIntegerField(null=True, blank=True)
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class Delivery(models.Model):
    """One event on its way to one endpoint. Per (endpoint, room), deliveries go strictly in
    event order: the oldest pending one (the head) blocks the rest until it succeeds or expires."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Gave up"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    room_id_key = models.BigIntegerField(default=0, help_text="The event's room (0: none); orders the chain.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField(default=timezone.now)
    # Retries stop after this (settings.WEBHOOK_RETRY_FOR after the event, or after a resend).
    retry_until = models.DateTimeField(null=True, blank=True)
    # A worker that claims the head owns it until then (a killed worker's claim lapses).
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed"]), name="delivery_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "room_id_key", "status", "event"], name="delivery_chain_idx"),
            models.Index(fields=["status", "next_try_at"], name="delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class Attempt(models.Model):
    """One POST of a delivery, whatever came of it."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    ok = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"attempt on {self.delivery_id}: {self.status_code or self.error[:40]}"
