"""The replay page's side of a recorded live: who may watch it, and its timeline.

The timeline is everything the page plays besides the media, in seconds from the start of the
live (`media.replays.live_started_at`): each seat's recorded files and when its camera or mic was
off, the comments at the time each was posted, and which question was in the spotlight when.

Removed comments never appear. The comment track is read from the `Comment` rows through
`VISIBLE` (not removed, not held, not rejected): a removal, at any time, is in the row, and an ended
room's stream events are pruned after `EVENT_RETENTION_DAYS` while a replay is kept longer. The
spotlight and camera/mic periods are read from the stored stream (after redaction: a dismissed
question's `question.spotlighted` keeps only `{id, removed}` and shows nothing); once pruned, the
replay simply shows none.

The page polls the timeline with its ETag (`timeline_etag`: the room's `last_seq`, which every
removal, restoration or approval moves, and the replay's own state), so a comment removed after
the page was opened disappears within one poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser, User

from comments.models import VISIBLE, Comment
from comments.moderators import can_moderate
from rooms.frames import user_data
from rooms.models import SEAT_COUNT, Room, RoomEvent

AnyUser = User | AnonymousUser

Refusal = Literal["live", "missing", "not_ready", "private"]

# A replay's comment track holds at most this many comments (the newest are dropped past it; a
# live of 10,000 comments is about 1 MB of JSON).
MAX_COMMENTS = 10_000


class ReplayRefused(Exception):
    """Why `replay_access` refuses: the live is still on (`live`), there is no replay (none was
    recorded, recording was off, or it was deleted: `missing`), it is not composed yet
    (`not_ready`), or the host made it private (`private`)."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason: Refusal = reason


@dataclass(frozen=True)
class Watch:
    """A replay someone may watch, and whether they may manage it (the host; private or not)."""

    replay: Any  # media.models.Replay
    is_host: bool


def replay_access(*, room: Room, user: AnyUser) -> Watch:
    """The replay `user` may watch in `room`. Whoever may watch the live may watch its replay
    (every live is public); a private replay only its host, the room's moderators and site staff."""
    from media import replays

    if room.is_live:
        raise ReplayRefused("live")
    replay = replays.replay_for(room)
    if replay is None or not replay.enabled or replay.deleted_at is not None:
        raise ReplayRefused("missing")
    is_host = user.is_authenticated and user.pk == room.host_id
    if replay.private and not (is_host or user.is_staff or can_moderate(user=user, room=room)):
        raise ReplayRefused("private")
    if replay.ready_at is None:
        raise ReplayRefused("not_ready")
    return Watch(replay=replay, is_host=is_host)


def timeline_etag(*, room: Room, replay: Any) -> str:
    """Changes whenever the timeline could: an event in the room (a removal, a restoration, an
    approval all append one), or the replay's state."""
    ready = replay.ready_at.timestamp() if replay.ready_at else 0
    return f'"r{replay.pk}-{room.last_seq}-{ready:.0f}-{int(replay.private)}"'


def timeline(*, room: Room, replay: Any) -> dict[str, Any]:
    """The replay's timeline, as the page reads it (docs/protocol.md, "Replays")."""
    from media import replays

    started = replays.live_started_at(replay)
    tracks = replays.tracks(replay)
    ends = [float(track["end"]) for track in tracks if track.get("end") is not None]
    lasted = (room.ended_at - started).total_seconds() if room.ended_at else 0.0
    duration = max([lasted, *ends]) if ends else max(lasted, 0.0)
    periods = seat_periods(room=room, started=started)
    seats = []
    for index in range(SEAT_COUNT):
        own = [_track(track) for track in tracks if int(track["seat"]) == index]
        if not own:
            continue
        seat = periods.get(index, {"user": None, "camera_off": [], "mic_off": []})
        if seat["user"] is None and index == 0:
            seat["user"] = user_data(room.host)
        seats.append({"index": index, **seat, "tracks": own})
    return {
        "room": {"slug": room.slug, "title": room.title},
        "started_at": started.isoformat(),
        "duration": round(duration, 3),
        "seats": seats,
        "comments": comment_track(room=room, started=started),
        "spotlights": spotlight_track(room=room, started=started),
    }


def _track(track: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": track["url"],
        "start": round(float(track["start"]), 3),
        "end": None if track.get("end") is None else round(float(track["end"]), 3),
        "container": track["container"],
        "has_video": bool(track["has_video"]),
        "has_audio": bool(track["has_audio"]),
    }


def _at(when: datetime, started: datetime) -> float:
    return round(max((when - started).total_seconds(), 0.0), 3)


def comment_track(*, room: Room, started: datetime) -> list[dict[str, Any]]:
    """The room's visible comments, oldest first, each at the second it was posted."""
    visible = Comment.objects.filter(VISIBLE, room=room).select_related("author").order_by("-created_at", "-id")
    newest = list(visible[:MAX_COMMENTS])
    return [
        {"id": c.pk, "at": _at(c.created_at, started), "user": user_data(c.author), "text": c.text}
        for c in reversed(newest)
    ]


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
        if row.type == "question.closed":
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


def seat_periods(*, room: Room, started: datetime) -> dict[int, dict[str, Any]]:
    """Per seat, from its stored `seat.updated` events: who held it (the last holder seen) and
    the periods `[from, to]` its camera (mic) was off while someone held it (`to` None: until the
    end)."""
    seats: dict[int, dict[str, Any]] = {}
    off_since: dict[tuple[int, str], float] = {}
    events = RoomEvent.objects.filter(room=room, type="seat.updated").order_by("seq")
    for row in events.only("frame", "created_at"):
        seat = row.frame.get("seat") or {}
        index = seat.get("index")
        if not isinstance(index, int) or not 0 <= index < SEAT_COUNT:
            continue
        entry = seats.setdefault(index, {"user": None, "camera_off": [], "mic_off": []})
        at = _at(row.created_at, started)
        held = seat.get("user") is not None
        if held:
            entry["user"] = seat["user"]
        for kind, key in (("camera", "camera_off"), ("mic", "mic_off")):
            off = held and seat.get(kind) is False
            since = off_since.get((index, kind))
            if off and since is None:
                off_since[(index, kind)] = at
            elif not off and since is not None:
                entry[key].append([since, at])
                del off_since[(index, kind)]
    for (index, kind), since in off_since.items():
        seats[index][f"{kind}_off"].append([since, None])
    return seats
