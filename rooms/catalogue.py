"""One catalogue of what the server sends: every frame type, once, with its fields and who gets it
(as Zulip's event schemas). The publish path checks each frame against it (rooms.events), and a
test checks docs/protocol.md and the webhook event types against it: a frame nobody described
cannot be sent, and a described one cannot silently change shape.

Code names a frame or a notice by its constant here (`catalogue.SEAT_UPDATED`), never by its
text: tests/rooms/test_catalogue.py fails on a literal at a publishing call site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Audience = Literal["room", "user", "reviewers", "socket"]


# The names. Frames (to sockets) and notices (to in-process listeners) share a name when they tell
# of the same thing (`comment.held` is both a frame to the reviewers and a webhook notice).
# the room's ordered stream
SEAT_UPDATED = "seat.updated"
COMMENT_CREATED = "comment.created"
COMMENT_REMOVED = "comment.removed"
ROOM_UPDATED = "room.updated"
ROOM_ENDED = "room.ended"
QUESTION_CREATED = "question.created"
QUESTION_UPDATED = "question.updated"
QUESTION_SPOTLIGHTED = "question.spotlighted"
QUESTION_CLOSED = "question.closed"
# ephemeral frames
REACTIONS = "reactions"
VIEWERS = "viewers"
SPEAKING = "speaking"
RECORDING = "recording"
SEAT_REQUESTED = "seat.requested"
SEAT_OFFERED = "seat.offered"
SEAT_DECLINED = "seat.declined"
SEAT_TOKEN = "seat.token"  # noqa: S105 (a frame's name, not a secret)
USER_TIMED_OUT = "user.timed_out"
COMMENT_HELD = "comment.held"
COMMENT_REJECTED = "comment.rejected"
ROOM_STATE = "room.state"
ACK = "ack"
ERROR = "error"
# notices only (rooms.events.notify)
ROOM_STARTED = "room.started"
VIEWER_PEAK = "viewer.peak"
COMMENT_APPROVED = "comment.approved"
RECORDING_READY = "recording.ready"
RECORDING_DELETED = "recording.deleted"


@dataclass(frozen=True)
class FrameType:
    name: str
    fields: frozenset[str]  # the top-level keys besides `type` (and `seq` for stream events)
    audience: Audience  # everyone in the room, one user, a held comment's author and reviewers, one socket
    stream: bool = False  # on the room's ordered stream (`seq`, stored, resumable)
    optional: frozenset[str] = frozenset()


def _frame(
    name: str, *fields: str, audience: Audience = "room", stream: bool = False, optional: tuple[str, ...] = ()
) -> FrameType:
    return FrameType(name, frozenset(fields), audience, stream, frozenset(optional))


CATALOGUE: dict[str, FrameType] = {
    f.name: f
    for f in [
        # the room's ordered stream
        _frame(SEAT_UPDATED, "seat", stream=True),
        _frame(COMMENT_CREATED, "comment", stream=True),
        _frame(COMMENT_REMOVED, "comment_id", stream=True),
        _frame(ROOM_UPDATED, "room", stream=True),
        _frame(ROOM_ENDED, "room", stream=True),
        _frame(QUESTION_CREATED, "question", stream=True),
        _frame(QUESTION_UPDATED, "question_id", "votes", stream=True),
        _frame(QUESTION_SPOTLIGHTED, "question", stream=True),
        _frame(QUESTION_CLOSED, "question_id", "how", stream=True),
        # ephemeral, to everyone in the room (written by the hubs)
        _frame(REACTIONS, "counts"),
        _frame(VIEWERS, "count"),
        _frame(SPEAKING, "seats"),  # from the media relay: who is talking now
        _frame(RECORDING, "enabled"),  # media.recording.live: the host turned recording off or on
        # ephemeral, to one user's sockets
        _frame(SEAT_REQUESTED, "user", audience="user"),
        _frame(SEAT_OFFERED, "index", "by", audience="user"),
        _frame(SEAT_DECLINED, "user", audience="user"),
        _frame(SEAT_TOKEN, "index", "whip", audience="user"),
        _frame(USER_TIMED_OUT, "until", audience="user"),
        # ephemeral, to a held comment's author and the room's reviewers
        _frame(COMMENT_HELD, "comment", audience="reviewers"),
        _frame(COMMENT_REJECTED, "comment_id", audience="reviewers"),
        # answers to one socket
        _frame(
            ROOM_STATE,
            "seq",
            "room",
            "seats",
            "viewers",
            "you",
            "comments",
            "reactions",
            "questions",
            "spotlight",
            audience="socket",
            optional=("held", "speaking", "recording"),
        ),
        _frame(ACK, "ref", audience="socket", optional=("comment_id", "held", "question_id", "votes", "until")),
        _frame(ERROR, "code", "message", "ref", audience="socket", optional=("retry_after", "until")),
    ]
}

# Notices: what happens in a room without being a frame of its stream, told to the in-process
# listeners (rooms.events.notify; the webhooks app records them), with the keys of their fields
# (a webhook's `data`, docs/webhooks.md). Stream events reach the same listeners as their frames.
NOTICES: dict[str, frozenset[str]] = {
    ROOM_STARTED: frozenset({"room", "host"}),  # rooms.actions.create_room
    VIEWER_PEAK: frozenset({"room", "viewers"}),  # rooms.stats
    COMMENT_HELD: frozenset({"room", "comment"}),  # comments.review
    COMMENT_APPROVED: frozenset({"room", "comment"}),
    USER_TIMED_OUT: frozenset({"room", "user", "by", "until"}),  # comments.moderators
    RECORDING_READY: frozenset({"room", "replay"}),  # media.recording.actions
    RECORDING_DELETED: frozenset({"room", "replay", "reason"}),
}

STREAM_TYPES = frozenset(name for name, f in CATALOGUE.items() if f.stream)


class UncataloguedFrame(ValueError):
    """A frame whose type or fields the catalogue does not describe."""


def check(event_type: str, fields: dict[str, Any], *, stream: bool) -> None:
    """Raise UncataloguedFrame unless `fields` are what the catalogue says `event_type` carries."""
    described = CATALOGUE.get(event_type)
    if described is None or described.stream != stream:
        raise UncataloguedFrame(f"{event_type!r} is not a {'stream' if stream else 'direct'} frame of the catalogue")
    keys = set(fields) - {"type", "seq"}
    missing = described.fields - {"seq"} - keys
    extra = keys - described.fields - described.optional
    if missing or extra:
        raise UncataloguedFrame(f"{event_type!r}: missing {sorted(missing)}, unexpected {sorted(extra)}")


def check_notice(notice_type: str, fields: dict[str, Any]) -> None:
    """Raise UncataloguedFrame unless `fields` are exactly what the catalogue says the notice carries."""
    described = NOTICES.get(notice_type)
    if described is None:
        raise UncataloguedFrame(f"{notice_type!r} is not a notice of the catalogue")
    if described != fields.keys():
        missing, extra = described - fields.keys(), fields.keys() - described
        raise UncataloguedFrame(f"{notice_type!r}: missing {sorted(missing)}, unexpected {sorted(extra)}")
