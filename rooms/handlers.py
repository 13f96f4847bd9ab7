"""Route a checked client frame to the action that owns it (runs in a worker thread)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from comments import actions as comments
from comments import moderators, pins, questions, review, settings
from rooms import actions as rooms
from rooms import seats
from rooms.models import Room
from rooms.protocol import ClientFrame
from rooms.throttle import take_action_token

AnyUser = User | AnonymousUser
Handler = Callable[[Room, AnyUser, dict[str, Any]], object]


def _comment(room: Room, user: AnyUser, fields: dict[str, Any]) -> dict[str, Any]:
    comment = comments.post_comment(room=room, author=user, text=fields["text"], ref=fields.get("ref"))
    return {"comment_id": comment.pk, "held": True} if comment.review == "held" else {"comment_id": comment.pk}


def _ask(room: Room, user: AnyUser, fields: dict[str, Any]) -> dict[str, Any]:
    return {"question_id": questions.ask(room=room, user=user, text=fields["text"]).pk}


def _vote(room: Room, user: AnyUser, fields: dict[str, Any]) -> dict[str, Any]:
    return {"votes": questions.vote(room=room, user=user, question_id=fields["question_id"], up=fields["up"])}


def _timeout(room: Room, user: AnyUser, fields: dict[str, Any]) -> dict[str, Any]:
    until = moderators.timeout(room=room, user=user, username=fields["username"], seconds=fields["seconds"])
    return {"until": until.isoformat() if until else None}


HANDLERS: dict[str, Handler] = {
    "comment.post": _comment,
    "seat.set": lambda room, user, f: seats.set_devices(room=room, user=user, **f),
    "seat.request": lambda room, user, f: seats.request_seat(room=room, user=user),
    "seat.invite": lambda room, user, f: seats.invite(room=room, user=user, username=f["username"]),
    "seat.accept": lambda room, user, f: seats.accept(room=room, user=user),
    "seat.decline": lambda room, user, f: seats.decline(room=room, user=user),
    "seat.leave": lambda room, user, f: seats.leave(room=room, user=user),
    "seat.remove": lambda room, user, f: seats.remove(room=room, user=user, index=f["index"]),
    "comments.set": lambda room, user, f: settings.set_comment_settings(room=room, user=user, **f),
    "room.end": lambda room, user, f: rooms.end_room_as_host(room=room, user=user),
    "qa.set": lambda room, user, f: questions.set_qa_enabled(room=room, user=user, enabled=f["enabled"]),
    "question.ask": _ask,
    "question.vote": _vote,
    "question.spotlight": lambda room, user, f: questions.spotlight(
        room=room, user=user, question_id=f.get("question_id")
    ),
    "question.answered": lambda room, user, f: questions.answer(room=room, user=user, question_id=f["question_id"]),
    "question.dismiss": lambda room, user, f: questions.dismiss(room=room, user=user, question_id=f["question_id"]),
    "comment.pin": lambda room, user, f: pins.pin(room=room, user=user, comment_id=f.get("comment_id")),
    "comment.remove": lambda room, user, f: moderators.remove(room=room, user=user, comment_id=f["comment_id"]),
    "user.timeout": _timeout,
    "held.approve": lambda room, user, f: review.approve(room=room, user=user, comment_id=f["comment_id"]),
    "held.reject": lambda room, user, f: review.reject(room=room, user=user, comment_id=f["comment_id"]),
    "moderator.set": lambda room, user, f: moderators.set_moderator(
        room=room, user=user, username=f["username"], on=f["on"]
    ),
}


def handle(frame: ClientFrame, *, room: Room, user: AnyUser) -> dict[str, Any]:
    """Run the frame's action; returns the extra fields of its `ack`. Raises ActionError."""
    take_action_token(room=room, user=user)
    fields = {**frame.fields, "ref": frame.ref} if frame.type == "comment.post" else frame.fields
    extra = HANDLERS[frame.type](room, user, fields)
    return extra if isinstance(extra, dict) else {}
