from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

SEAT_COUNT = 4
HOST_SEAT = 0


def new_publish_token() -> str:
    return secrets.token_urlsafe(24)


class Room(models.Model):
    class Status(models.TextChoices):
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"

    slug = models.SlugField(max_length=32, unique=True)
    title = models.CharField(max_length=120)
    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosted_rooms")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.LIVE)
    comments_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # When the host was last known to be present (page, socket or media); the sweep ends rooms
    # whose host has been gone longer than settings.ROOM_ABANDONED_AFTER.
    host_seen_at = models.DateTimeField(default=timezone.now)
    # The `seq` of the room's newest event; only rooms.events.append_event moves it.
    last_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("end_room", "Can end a live room")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["live", "ended"]), name="room_status_valid"),
            models.CheckConstraint(
                condition=Q(status="ended", ended_at__isnull=False) | Q(status="live", ended_at__isnull=True),
                name="room_ended_at_iff_ended",
            ),
        ]
        indexes = [models.Index(fields=["status", "host_seen_at"], name="room_status_seen_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.slug})"

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.LIVE


class Seat(models.Model):
    """One of a room's four broadcaster seats; seat 0 belongs to the host."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="seats")
    index = models.PositiveSmallIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="seats"
    )
    # The holder's choice (or the host's mute); what viewers see is `camera_shown`.
    camera = models.BooleanField(default=True)
    mic = models.BooleanField(default=True)
    publishing = models.BooleanField(default=False)
    # Set by the server: the seat's last publisher offered no video (OBS audio only, `ffmpeg -vn`),
    # so its camera shows off whatever `camera` says; cleared when one publishes with video, and
    # when the seat changes hands (rooms.seats.set_audio_only).
    audio_only = models.BooleanField(default=False)
    # `publishing` is a lease: the process relaying the seat's media renews it every
    # PUBLISHING_RENEW_INTERVAL seconds (media/lease.py); once it lapses (that process died) the
    # sweep turns `publishing` off (rooms.seats.expire_publishing). None while not publishing.
    publishing_until = models.DateTimeField(null=True, blank=True)
    # Bearer token for WHIP (OBS/FFmpeg/the studio page); a new one each time someone takes the seat.
    publish_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # When the seat's holder was last known to be present (socket or media); the abandoned-room
    # sweep frees a guest seat whose holder has been gone longer than ROOM_ABANDONED_AFTER.
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["room", "index"]
        constraints = [
            models.UniqueConstraint(fields=["room", "index"], name="seat_index_unique_in_room"),
            models.CheckConstraint(condition=Q(index__gte=0, index__lt=SEAT_COUNT), name="seat_index_0_to_3"),
            models.UniqueConstraint(
                fields=["room", "user"], condition=Q(user__isnull=False), name="seat_one_per_user_in_room"
            ),
            models.CheckConstraint(
                condition=Q(publishing=False) | Q(user__isnull=False), name="seat_publishing_needs_user"
            ),
            models.CheckConstraint(
                condition=Q(publish_token__isnull=True) | Q(user__isnull=False), name="seat_token_needs_user"
            ),
        ]
        indexes = [
            models.Index(fields=["publishing_until"], condition=Q(publishing=True), name="seat_publishing_lease_idx")
        ]

    def __str__(self) -> str:
        return f"seat {self.index} of {self.room.slug}"

    @property
    def camera_shown(self) -> bool:
        """Whether viewers see the seat's camera: on, and its publisher sends video."""
        return self.camera and not self.audio_only


class RoomEvent(models.Model):
    """The room's ordered event stream: one row per published event, `seq` gap-free per room.

    A row is written in the same transaction as the change it describes, so the stream and the
    state never disagree; sockets resume by reading rows after the `seq` they last saw.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    # The whole wire frame, `type` and `seq` included, as clients receive it (redacted in place
    # when what it carries is withdrawn: rooms.events.redact).
    frame = models.JSONField()
    # What the frame is about ("comment:42"), for the events that can be redacted; else "".
    subject = models.CharField(max_length=60, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="room_event_seq_unique"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="room_event_seq_positive"),
        ]
        indexes = [models.Index(fields=["room", "subject"], name="room_event_subject_idx")]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq} {self.type}"


class SeatRequest(models.Model):
    """A viewer asked the host to join the stage; shown to the host until answered."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="seat_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="seat_request_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id} asks to join {self.room_id}"


class SeatInvite(models.Model):
    """The host offered `user` seat `index`; the offer belongs to the invited user."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="seat_invites")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="seat_invite_once_per_user"),
            models.CheckConstraint(condition=Q(index__gte=1, index__lt=SEAT_COUNT), name="seat_invite_guest_seat"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} invited to seat {self.index} of {self.room_id}"


class RoomStats(models.Model):
    """A room's audience figures, kept off the hot path: hubs add their tallies every few seconds
    (rooms.stats.record_presence) and a Celery task counts the rest (rooms.stats.refresh)."""

    room = models.OneToOneField(Room, on_delete=models.CASCADE, primary_key=True, related_name="stats")
    peak_viewers = models.PositiveIntegerField(default=0)
    # The peak last announced as a `viewer.peak` webhook event.
    peak_announced = models.PositiveIntegerField(default=0)
    unique_viewers = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    removed_comments = models.PositiveIntegerField(default=0)
    questions = models.PositiveIntegerField(default=0)
    answered_questions = models.PositiveIntegerField(default=0)
    question_votes = models.PositiveIntegerField(default=0)
    hearts = models.PositiveBigIntegerField(default=0)
    other_reactions = models.PositiveBigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "room stats"

    def __str__(self) -> str:
        return f"stats of {self.room_id}"


class RoomViewer(models.Model):
    """One row per distinct viewer of a room (a signed-in user, or an anonymous browser), for the
    unique-viewer count. Hubs write them in batches, never one per socket event."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "key"], name="room_viewer_once")]

    def __str__(self) -> str:
        return f"{self.key} in {self.room_id}"


class ReactionSecond(models.Model):
    """The reactions sent in a room during one second (the replay's hearts timeline). Hubs add
    their tallies every few seconds (rooms.reaction_seconds), never one write per heart."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    second = models.DateTimeField()  # the start of that second
    hearts = models.PositiveIntegerField(default=0)
    others = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "second"], name="reaction_second_once")]

    def __str__(self) -> str:
        return f"{self.hearts} hearts in {self.room_id} at {self.second:%H:%M:%S}"
