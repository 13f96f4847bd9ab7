"""What the media app stores: a room's replay and the recorded files of its seats.

A `Replay` belongs to one room (made the first time anything asks: the host turning recording off,
or the first recorded frame). A `Recording` is one file: one seat's publishing period (a guest
joining then leaving, a host reconnecting: each a row), audio and/or video as the publisher sent
them, never decoded (VP8 + Opus in WebM, H.264 + Opus in fragmented MP4).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from rooms.models import SEAT_COUNT, Room


def recording_default() -> bool:
    """A room records unless the site turned recording off (RECORDING_ENABLED)."""
    return bool(getattr(settings, "RECORDING_ENABLED", True))


class Replay(models.Model):
    """A room's recording switch, privacy, and (after the live) its replay."""

    class Composed(models.TextChoices):
        NONE = "", "not asked"
        PENDING = "pending", "queued"
        RUNNING = "running", "composing"
        READY = "ready", "ready"
        FAILED = "failed", "failed"

    room = models.OneToOneField(Room, on_delete=models.CASCADE, related_name="replay")
    # The host may turn recording off before or during the live; off stops it at once.
    enabled = models.BooleanField(default=recording_default)
    # Only the host may watch a private replay.
    private = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Set once the live ended and every recording of it is closed (the replay page can play it).
    ready_at = models.DateTimeField(null=True, blank=True)
    # Set when the replay's files were deleted (retention or the host); the rows stay as the record.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The one transcode: a 4-up MP4 of the whole live for the host to download (media.tasks).
    composed = models.FileField(upload_to="replays/composed/", max_length=300, null=True, blank=True)
    composed_status = models.CharField(max_length=10, choices=Composed.choices, default=Composed.NONE, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"replay of {self.room_id}"

    @property
    def is_ready(self) -> bool:
        return self.ready_at is not None and self.deleted_at is None


class Recording(models.Model):
    """One seat's publishing period, as one file in the default storage."""

    class Container(models.TextChoices):
        WEBM = "webm", "WebM (VP8/Opus)"
        MP4 = "mp4", "fragmented MP4 (H.264/Opus)"

    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="recordings")
    seat_index = models.PositiveSmallIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file = models.FileField(upload_to="replays/", max_length=300)
    container = models.CharField(max_length=4, choices=Container.choices)
    video_codec = models.CharField(max_length=8, blank=True, default="")  # "vp8", "h264", "" (audio only)
    has_video = models.BooleanField(default=False)
    has_audio = models.BooleanField(default=False)
    # Wall-clock time of the file's time zero (its first frame), and of its last frame once closed.
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    size = models.PositiveBigIntegerField(default=0)  # bytes
    duration = models.FloatField(default=0.0)  # seconds
    # When what viewers saw had no picture (camera off, or no video at all) / no sound (mic off):
    # [[start, end], ...] in seconds from the file's time zero. The file has no video frames there
    # (the player holds nothing to show: the replay page shows the seat's placeholder) and Opus
    # silence frames for the audio (so players and the composer keep time).
    video_off = models.JSONField(default=list, blank=True)
    audio_off = models.JSONField(default=list, blank=True)
    # Frames dropped because the writer fell behind (the relay never waits on disk).
    dropped_frames = models.PositiveIntegerField(default=0)
    # Which process writes it ("host:pid") and when it last flushed: a recording left open by a
    # dead process is closed and made playable by the next start or the beat sweep.
    writer = models.CharField(max_length=200, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    recovered = models.BooleanField(default=False)  # closed by recovery after its writer died

    class Meta:
        ordering = ["replay", "started_at", "seat_index"]
        constraints = [
            models.CheckConstraint(
                condition=Q(seat_index__gte=0, seat_index__lt=SEAT_COUNT), name="recording_seat_0_to_3"
            ),
        ]
        indexes = [models.Index(fields=["ended_at"], name="recording_open_idx")]

    def __str__(self) -> str:
        return f"seat {self.seat_index} of replay {self.replay_id} ({self.container})"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class TalkTime(models.Model):
    """How long one user spoke from one seat of a room (a room figure for its host). The room's
    origin relay counts it from the speaking detector (media.speaking_time) and adds its share every
    few seconds and when the room's media closes there; never one write per packet or per word."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    seat_index = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    milliseconds = models.PositiveBigIntegerField(default=0)
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["room", "seat_index", "first_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seat_index", "user"], name="talk_time_once_per_seat_user"),
            models.CheckConstraint(
                condition=Q(seat_index__gte=0, seat_index__lt=SEAT_COUNT), name="talk_time_seat_0_to_3"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.milliseconds} ms of {self.user_id} on seat {self.seat_index} of {self.room_id}"

    @property
    def seconds(self) -> float:
        return self.milliseconds / 1000
