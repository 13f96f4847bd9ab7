"""A recorded live for replay tests: real WebM files (tests/rooms/replay_media.py) stored and
described through the recording's own models, as the recorder leaves them once the live ended."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from media.models import Recording, Replay
from rooms import actions
from rooms.models import Room
from tests.rooms.replay_media import webm

COLOURS = [(220, 40, 40), (40, 200, 60), (40, 80, 220), (230, 200, 40)]
TONES = [440.0, 660.0, 880.0, 1100.0]


def record_seat(
    room: Room,
    *,
    seat: int,
    user: Any,
    start: float,
    seconds: float,
    zero: datetime,
    video_off: list[list[float]] | None = None,
    video: bool = True,
) -> Recording:
    """Seat `seat`'s file from `start` s after `zero` for `seconds` (its colour and tone)."""
    replay, _ = Replay.objects.get_or_create(room=room)
    data = webm(seconds=seconds, colour=COLOURS[seat], tone=TONES[seat], video=video)
    name = default_storage.save(f"replays/test-{room.slug}-seat{seat}.webm", ContentFile(data))
    began = zero + timedelta(seconds=start)
    return Recording.objects.create(
        replay=replay,
        seat_index=seat,
        user=user,
        file=name,
        container=Recording.Container.WEBM,
        video_codec="vp8" if video else "",
        has_video=video,
        has_audio=True,
        started_at=began,
        ended_at=began + timedelta(seconds=seconds),
        size=len(data),
        duration=seconds,
        video_off=video_off or [],
    )


def finish(room: Room, *, ready: bool = True, private: bool = False, ended_at: datetime | None = None) -> Replay:
    """End the live (at `ended_at`, if said); the replay is ready (every recording closed) unless
    `ready` is False."""
    actions.end_room(room=room)
    if ended_at is not None:
        Room.objects.filter(pk=room.pk).update(ended_at=ended_at)
        room.ended_at = ended_at
    replay, _ = Replay.objects.get_or_create(room=room)
    Replay.objects.filter(pk=replay.pk).update(ready_at=timezone.now() if ready else None, private=private)
    replay.refresh_from_db()
    return replay


@contextmanager
def stored_files() -> Iterator[None]:
    """Delete the files the test stored, whatever happens."""
    before = set(Recording.objects.values_list("pk", flat=True))
    try:
        yield
    finally:
        for recording in Recording.objects.exclude(pk__in=before):
            if recording.file and default_storage.exists(recording.file.name):
                default_storage.delete(recording.file.name)


def recorded(room: Room, users: list[Any], *, seconds: float = 6.0, offsets: list[float] | None = None) -> datetime:
    """Record seats 0.. for `users` from the room's start (seat n from `offsets[n]` s); returns time zero."""
    zero = timezone.now() - timedelta(seconds=seconds)
    for seat, user in enumerate(users):
        start = offsets[seat] if offsets else 0.0
        record_seat(room, seat=seat, user=user, start=start, seconds=seconds - start, zero=zero)
    return zero
