"""The replay's comment track (rooms.replay, registered from CommentsConfig.ready): the room's
visible comments — never a removed, held or rejected one — each at the second of the live it was
posted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from comments.models import VISIBLE, Comment
from rooms.frames import user_data
from rooms.models import Room
from rooms.replay import at_second

# A replay's comment track holds at most this many comments (the newest are dropped past it; a
# live of 10,000 comments is about 1 MB of JSON).
MAX_COMMENTS = 10_000


def comment_track(*, room: Room, started: datetime) -> list[dict[str, Any]]:
    """The room's visible comments, oldest first."""
    visible = Comment.objects.filter(VISIBLE, room=room).select_related("author").order_by("-created_at", "-id")
    newest = list(visible[:MAX_COMMENTS])
    return [
        {"id": c.pk, "at": at_second(c.created_at, started), "user": user_data(c.author), "text": c.text}
        for c in reversed(newest)
    ]
