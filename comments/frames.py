"""How comments look on the wire."""

from __future__ import annotations

from typing import Any

from comments.models import Comment, Question
from rooms.catalogue import COMMENT_CREATED, QUESTION_CREATED, ROOM_UPDATED
from rooms.frames import user_data


def comment_data(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "user": user_data(comment.author),
        "text": comment.text,
        "created_at": comment.created_at.isoformat(),
    }


def redacted_comment(comment_id: int, event_type: str = COMMENT_CREATED) -> dict[str, Any]:
    """What a stored event about a comment keeps once the comment is removed (docs/protocol.md):
    its `comment.created` keeps {id, removed}; a `room.updated` that pinned it, the same as `pinned`."""
    gone = {"id": comment_id, "removed": True}
    return {"room": {"pinned": gone}} if event_type == ROOM_UPDATED else {"comment": gone}


def question_data(question: Question) -> dict[str, Any]:
    return {
        "id": question.pk,
        "user": user_data(question.author),
        "text": question.text,
        "votes": question.votes,
        "created_at": question.created_at.isoformat(),
    }


def redacted_question(question_id: int, event_type: str = QUESTION_CREATED) -> dict[str, Any]:
    """What a stored `question.created` (or `question.spotlighted`) keeps once it is dismissed."""
    return {"question": {"id": question_id, "removed": True}}
