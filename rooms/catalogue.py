"""One catalogue of what the server sends: every frame type, once, with its fields and who gets it
(as Zulip's event schemas). The publish path checks each frame against it (rooms.events), and a
test checks docs/protocol.md and the webhook event types against it: a frame nobody described
cannot be sent, and a described one cannot silently change shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Audience = Literal["room", "user", "reviewers", "socket"]


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
        _frame("seat.updated", "seat", stream=True),
        _frame("comment.created", "comment", stream=True),
        _frame("comment.removed", "comment_id", stream=True),
        _frame("room.updated", "room", stream=True),
        _frame("room.ended", "room", stream=True),
        _frame("question.created", "question", stream=True),
        _frame("question.updated", "question_id", "votes", stream=True),
        _frame("question.spotlighted", "question", stream=True),
        _frame("question.closed", "question_id", "how", stream=True),
        # ephemeral, to everyone in the room (written by the hubs)
        _frame("reactions", "counts"),
        _frame("viewers", "count"),
        _frame("speaking", "seats"),  # from the media relay: who is talking now
        _frame("recording", "enabled"),  # media.recording.live: the host turned recording off or on
        # ephemeral, to one user's sockets
        _frame("seat.requested", "user", audience="user"),
        _frame("seat.offered", "index", "by", audience="user"),
        _frame("seat.declined", "user", audience="user"),
        _frame("seat.token", "index", "whip", audience="user"),
        _frame("user.timed_out", "until", audience="user"),
        # ephemeral, to a held comment's author and the room's reviewers
        _frame("comment.held", "comment", audience="reviewers"),
        _frame("comment.rejected", "comment_id", audience="reviewers"),
        # answers to one socket
        _frame(
            "room.state",
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
        _frame("ack", "ref", audience="socket", optional=("comment_id", "held", "question_id", "votes", "until")),
        _frame("error", "code", "message", "ref", audience="socket", optional=("retry_after", "until")),
    ]
}

# Webhook events that are not stream events, and the keys of their `data` (docs/webhooks.md);
# stream events reach webhooks with their frame's fields (rooms.events.WEBHOOK_EVENTS).
WEBHOOK_ONLY: dict[str, frozenset[str]] = {
    "room.started": frozenset({"room", "host"}),
    "viewer.peak": frozenset({"room", "viewers"}),
    "comment.held": frozenset({"room", "comment"}),
    "comment.approved": frozenset({"room", "comment"}),
    "user.timed_out": frozenset({"room", "user", "by", "until"}),
    "recording.ready": frozenset({"room", "replay"}),  # media.recording.actions
    "recording.deleted": frozenset({"room", "replay", "reason"}),
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
