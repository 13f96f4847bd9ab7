"""Reading a room's replay: what the replay page (and its views) need. Nothing here writes.

- `replay_for(room)`: the room's `Replay`, or None when it has none (nothing was ever recorded
  and nobody touched the switch).
- `live_started_at(replay)`: the replay's time zero (its first recorded frame; the room's start
  when nothing was recorded). Every `start`/`end` below is in seconds from it.
- `tracks(replay)`: one dict per recorded file (a seat's publishing period), in time order.
- `may_watch(replay, user)` / `may_manage(replay, user)`: who sees it, who downloads and deletes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from django.contrib.auth.models import AnonymousUser, User
from django.urls import reverse

from media.models import Recording, Replay
from rooms.models import Room


class Track(TypedDict):
    id: int
    seat: int
    url: str  # the file, for <video src> (Range requests answered)
    download_url: str  # the same file as an attachment (the host's download)
    start: float  # seconds from live_started_at
    end: float
    container: str  # "webm" | "mp4"
    mime: str  # e.g. 'video/webm; codecs="vp8, opus"'
    has_video: bool
    has_audio: bool
    video_off: list[list[float]]  # [[start, end], ...] seconds from live_started_at: show the placeholder
    audio_off: list[list[float]]  # likewise: the mic was off (the file holds silence there)
    user: dict[str, Any] | None  # {id, username} of who sat there, if known


def replay_for(room: Room) -> Replay | None:
    return Replay.objects.filter(room=room).first()


def live_started_at(replay: Replay) -> datetime:
    first = replay.recordings.order_by("started_at").values_list("started_at", flat=True).first()
    if first is not None:
        return first
    room = replay.room
    return room.started_at or room.created_at


def _mime(recording: Recording) -> str:
    codecs = []
    if recording.has_video:
        codecs.append("avc1.42e01f" if recording.video_codec == "h264" else "vp8")
    if recording.has_audio:
        codecs.append("opus")
    kind = "video" if recording.has_video else "audio"
    return f'{kind}/{recording.container}; codecs="{", ".join(codecs)}"'


def _shift(spans: list[list[float]], by: float) -> list[list[float]]:
    return [[round(a + by, 3), round(b + by, 3)] for a, b in spans]


def track_of(recording: Recording, *, zero: datetime, slug: str) -> Track:
    start = (recording.started_at - zero).total_seconds()
    url = reverse("media:replay-track", kwargs={"slug": slug, "pk": recording.pk, "ext": recording.container})
    user = recording.user
    return Track(
        id=recording.pk,
        seat=recording.seat_index,
        url=url,
        download_url=f"{url}?download=1",
        start=round(start, 3),
        end=round(start + recording.duration, 3),
        container=recording.container,
        mime=_mime(recording),
        has_video=recording.has_video,
        has_audio=recording.has_audio,
        video_off=_shift(recording.video_off or [], start),
        audio_off=_shift(recording.audio_off or [], start),
        user={"id": user.pk, "username": user.username} if user is not None else None,
    )


def tracks(replay: Replay) -> list[Track]:
    """The replay's files, oldest first (none once deleted). Open ones (live still going) are left
    out: their length is not known yet."""
    if replay.deleted_at is not None:
        return []
    zero = live_started_at(replay)
    slug = replay.room.slug
    rows = replay.recordings.filter(ended_at__isnull=False).select_related("user").order_by("started_at", "seat_index")
    return [track_of(r, zero=zero, slug=slug) for r in rows]


def may_manage(replay: Replay, user: User | AnonymousUser) -> bool:
    """The host downloads, deletes, and turns recording and privacy on or off."""
    return bool(user.is_authenticated and user.pk == replay.room.host_id)


def may_watch(replay: Replay, user: User | AnonymousUser) -> bool:
    """Who may watch the live may watch its replay (a live room is public), unless the host made it
    private; nobody once it is deleted; the host always (while it exists)."""
    if replay.deleted_at is not None:
        return False
    if may_manage(replay, user):
        return True
    return not replay.private and replay.ready_at is not None


def composed_ready(replay: Replay) -> bool:
    """Whether the 4-up MP4 of the whole live is made (the host's download)."""
    return replay.composed_status == Replay.Composed.READY
