"""The comment app's share of the room's pages (rooms.pages, registered from CommentsConfig.ready):
the live page's recent comments, and the recap's count of visible comments."""

from __future__ import annotations

from comments.models import VISIBLE, Comment
from rooms.models import Room

RECENT_COMMENTS = 50


def room_page(room: Room) -> dict[str, object]:
    recent = (
        Comment.objects.filter(VISIBLE, room=room)
        .select_related("author")
        .order_by("-created_at", "-id")[:RECENT_COMMENTS]
    )
    return {"comments": reversed(recent)}


def recap(room: Room) -> dict[str, object]:
    return {"comments": Comment.objects.filter(room=room, removed_at__isnull=True).count()}
