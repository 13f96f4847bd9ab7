"""How comments look on the wire."""

from __future__ import annotations

from typing import Any

from comments.models import Comment
from rooms.frames import user_data


def comment_data(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "user": user_data(comment.author),
        "text": comment.text,
        "created_at": comment.created_at.isoformat(),
    }


def redacted_comment(comment_id: int) -> dict[str, Any]:
    """What a stored `comment.created` keeps once its comment is removed (docs/protocol.md)."""
    return {"comment": {"id": comment_id, "removed": True}}
