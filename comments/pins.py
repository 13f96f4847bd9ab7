"""The pinned comment: one per room, shown above the others on every screen. The host or a
moderator pins it; removing it, or banning its author, unpins it (in the same transaction)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext as _

from comments.frames import comment_data
from comments.models import Comment, Hotline
from liverooms.errors import ActionError
from rooms.access import locked_live_room, require_user
from rooms.catalogue import ROOM_UPDATED
from rooms.events import append_event
from rooms.models import Room


def pin(*, room: Room, user: User | AnonymousUser, comment_id: int | None) -> None:
    """Pin a visible comment of the room (None: unpin); publishes `room.updated` {room: {pinned}}."""
    moderator = require_user(user)
    with locked_live_room(room) as locked:
        from comments.moderators import can_moderate  # (moderators -> actions -> pins)

        if not can_moderate(user=moderator, room=locked):
            raise ActionError("forbidden", _("Only the host or a moderator can pin a comment."))
        comment = None
        if comment_id is not None:
            comment = Comment.objects.select_related("author").filter(room=locked, pk=comment_id).first()
            if comment is None or comment.is_removed or not comment.is_published:
                raise ActionError("not_found", _("There is no such comment."))
        hotline, _created = Hotline.objects.get_or_create(room=locked)
        if hotline.pinned_id == (comment.pk if comment else None):
            return
        hotline.pinned = comment
        hotline.save(update_fields=["pinned"])
        append_event(locked, ROOM_UPDATED, {"room": {"pinned": comment_data(comment) if comment else None}})


def unpin_any(*, room: Room, comment_ids: Iterable[int]) -> None:
    """In a removal's transaction: if the room's pinned comment is among these, unpin it."""
    if Hotline.objects.filter(room=room, pinned_id__in=list(comment_ids)).update(pinned=None):
        append_event(room, ROOM_UPDATED, {"room": {"pinned": None}})


def unpin_author(*, user: User, room: Room | None) -> None:
    """In a ban's transaction: unpin the user's pinned comments in `room` (everywhere if None)."""
    pinned = Hotline.objects.filter(pinned__author=user)
    if room is not None:
        pinned = pinned.filter(room=room)
    for hotline in pinned.select_related("room"):
        hotline.pinned = None
        hotline.save(update_fields=["pinned"])
        append_event(hotline.room, ROOM_UPDATED, {"room": {"pinned": None}})
