"""The replay page's side of a recorded live: who may watch it, and its timeline.

The timeline is everything the page plays besides the media, in seconds from the start of the
live (`media.replays.live_started_at`): each seat's recorded files and when its camera or mic was
off, the comments at the time each was posted, and which question was in the spotlight when.

The recordings come from media (`register_recordings(media.replays)`) and the comment track from
comments (`register_comment_track`), both from their AppConfig.ready: rooms imports neither.

Removed comments never appear. The comment track is read from the `Comment` rows (comments.replay)
through `VISIBLE` (not removed, not held, not rejected): a removal, at any time, is in the row, and
an ended room's stream events are pruned after `EVENT_RETENTION_DAYS` while a replay is kept longer. The
spotlight and camera/mic periods are read from the stored stream (after redaction: a dismissed
question's `question.spotlighted` keeps only `{id, removed}` and shows nothing); once pruned, the
replay simply shows none.

The page polls the timeline with its ETag (`timeline_etag`: the room's `last_seq`, which every
removal, restoration or approval moves, and the replay's own state), so a comment removed after
the page was opened disappears within one poll.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from django.contrib.auth.models import AnonymousUser, User

from rooms.catalogue import QUESTION_CLOSED
from rooms.frames import user_data
from rooms.models import SEAT_COUNT, Room, RoomEvent
from rooms.reaction_seconds import hearts_track

AnyUser = User | AnonymousUser

Refusal = Literal["live", "missing", "not_ready", "private"]


class Recordings(Protocol):
    """What the replay page reads of a room's recordings (media.replays)."""

    def replay_for(self, room: Room) -> Any | None: ...
    def may_manage(self, replay: Any, user: AnyUser) -> bool: ...
    def may_watch(self, replay: Any, user: AnyUser) -> bool: ...
    def live_started_at(self, replay: Any) -> datetime: ...
    def tracks(self, replay: Any) -> list[Any]: ...
    def composed_ready(self, replay: Any) -> bool: ...


CommentTrack = Callable[..., list[dict[str, Any]]]  # (*, room, started) -> [{id, at, user, text}]

_recordings: list[Recordings] = []
_comment_tracks: list[CommentTrack] = []


def register_recordings(recordings: Recordings) -> None:
    """media: the room's recordings (one provider; the last registered wins)."""
    _recordings[:] = [recordings]


def register_comment_track(track: CommentTrack) -> None:
    """comments: the visible comments of a room, each at the second of the live it was posted."""
    _comment_tracks[:] = [track]


def _require_media() -> Recordings:
    if not _recordings:
        raise ReplayRefused("missing")  # nothing records in this project
    return _recordings[0]


class ReplayRefused(Exception):
    """Why `replay_access` refuses: the live is still on (`live`), there is no replay (none was
    recorded, or it was deleted: `missing`), a recording is still being closed (`not_ready`), or
    the host made it private (`private`)."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason: Refusal = reason


@dataclass(frozen=True)
class Watch:
    """A replay someone may watch, and whether they may manage it (the host; private or not)."""

    replay: Any  # media.models.Replay
    is_host: bool


def replay_access(*, room: Room, user: AnyUser) -> Watch:
    """The replay `user` may watch in `room`: whoever may watch the live (every live is public),
    unless the host made it private (then only the host). The same rule as its files
    (`media.replays.may_watch`), so a page is never shown whose tiles would not play."""
    if room.is_live:
        raise ReplayRefused("live")
    replays = _require_media()
    replay = replays.replay_for(room)
    if replay is None or replay.deleted_at is not None or not replay.recordings.exists():
        raise ReplayRefused("missing")
    is_host = replays.may_manage(replay, user)
    if replay.private and not is_host:
        raise ReplayRefused("private")
    if replay.ready_at is None:
        raise ReplayRefused("not_ready")
    if not replays.may_watch(replay, user):
        raise ReplayRefused("private")
    return Watch(replay=replay, is_host=is_host)


def timeline_etag(*, room: Room, replay: Any) -> str:
    """Changes whenever the timeline could: an event in the room (a removal, a restoration, an
    approval all append one), or the replay's state."""
    ready = replay.ready_at.timestamp() if replay.ready_at else 0
    return f'"r{replay.pk}-{room.last_seq}-{ready:.0f}-{int(replay.private)}"'


def timeline(*, room: Room, replay: Any) -> dict[str, Any]:
    """The replay's timeline, as the page reads it (docs/protocol.md, "Replays")."""
    replays = _require_media()
    started = replays.live_started_at(replay)
    tracks = replays.tracks(replay)
    lasted = (room.ended_at - started).total_seconds() if room.ended_at else 0.0
    duration = max([lasted, *(float(track["end"]) for track in tracks)])
    return {
        "room": {"slug": room.slug, "title": room.title},
        "started_at": started.isoformat(),
        "duration": round(max(duration, 0.0), 3),
        "seats": seat_track(room=room, tracks=tracks),
        "comments": comment_track(room=room, started=started),
        "spotlights": spotlight_track(room=room, started=started),
        "hearts": hearts_track(room=room, started=started),
    }


def seat_track(*, room: Room, tracks: list[Any]) -> list[dict[str, Any]]:
    """The seats that were recorded, each with its files (`start`/`end` in seconds of the live),
    who sat there, and when its camera (`camera_off`) or mic (`mic_off`) was off. A file without
    video counts as camera off all along."""
    seats = []
    for index in range(SEAT_COUNT):
        own = [track for track in tracks if int(track["seat"]) == index]
        if not own:
            continue
        users = [track["user"] for track in own if track.get("user")]
        user = users[-1] if users else (user_data(room.host) if index == 0 else None)
        seats.append(
            {
                "index": index,
                "user": user,
                "tracks": [_track(track) for track in own],
                "camera_off": [span for track in own for span in track.get("video_off", [])],
                "mic_off": [span for track in own for span in track.get("audio_off", [])],
            }
        )
    return seats


def _track(track: Any) -> dict[str, Any]:
    return {
        "id": track["id"],
        "url": track["url"],
        "mime": track["mime"],
        "start": float(track["start"]),
        "end": float(track["end"]),
        "has_video": bool(track["has_video"]),
        "has_audio": bool(track["has_audio"]),
    }


def _at(when: datetime, started: datetime) -> float:
    return round(max((when - started).total_seconds(), 0.0), 3)


def at_second(when: datetime, started: datetime) -> float:
    """Seconds from the start of the live (never before it), as the timeline counts them."""
    return _at(when, started)


def comment_track(*, room: Room, started: datetime) -> list[dict[str, Any]]:
    """The room's visible comments, oldest first, each at the second it was posted (comments.replay)."""
    return [item for track in _comment_tracks for item in track(room=room, started=started)]


def spotlight_track(*, room: Room, started: datetime) -> list[dict[str, Any]]:
    """Which question was in the spotlight from when: `{at, question}` (None: nothing shown). A
    question closed (answered or dismissed) leaves the spotlight then; a dismissed one's stored
    events are redacted and show nothing."""
    events = RoomEvent.objects.filter(room=room, type__in=["question.spotlighted", "question.closed"]).order_by("seq")
    track: list[dict[str, Any]] = []
    shown: int | None = None
    for row in events.only("type", "frame", "created_at"):
        frame = row.frame
        at = _at(row.created_at, started)
        if row.type == QUESTION_CLOSED:
            if shown is not None and frame.get("question_id") == shown:
                shown = None
                track.append({"at": at, "question": None})
            continue
        question = frame.get("question")
        if not question or question.get("removed"):
            shown = None
            track.append({"at": at, "question": None})
            continue
        shown = int(question["id"])
        track.append(
            {"at": at, "question": {"id": shown, "user": question.get("user"), "text": str(question.get("text", ""))}}
        )
    return track


def host_downloads(*, replay: Any) -> dict[str, Any]:
    """For the host's panel: each seat's original files, and the composed 4-up MP4 once made."""
    replays = _require_media()
    files = [
        {"seat": track["seat"], "user": track["user"], "start": track["start"], "url": track["download_url"]}
        for track in replays.tracks(replay)
    ]
    return {
        "files": files,
        "composed": replay.composed_status,
        "composed_ready": replays.composed_ready(replay),
    }
