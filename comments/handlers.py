"""The comment app's client frames: each routed to the action that owns it. Registered with the
room socket (rooms.handlers.register_handler) from CommentsConfig.ready; runs in a worker thread."""

from __future__ import annotations

from typing import Any

from comments import actions as comments
from comments import moderators, pins, questions, review, settings
from rooms.handlers import AnyUser, Handler
from rooms.models import Room


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
    "comments.set": lambda room, user, f: settings.set_comment_settings(room=room, user=user, **f),
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

# Frames whose handler also gets the frame's `ref` (in `fields["ref"]`): a retried comment is
# recognised by it.
WITH_REF = frozenset({"comment.post"})
