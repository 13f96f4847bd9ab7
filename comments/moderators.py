"""Moderation from the room itself: the host names up to MAX_PER_ROOM room moderators; they (and
site moderators, everywhere) remove comments, pin, dismiss questions and time viewers out. A
moderator cannot moderate the host or another moderator; the host cannot be timed out in their
own room. Every action ends in the same functions as the admin's (comments.actions)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from comments import actions
from comments.models import Ban, Comment, RoomModerator
from liverooms.errors import ActionError
from rooms.access import locked_live_room, require_host, require_user
from rooms.catalogue import ROOM_UPDATED, USER_TIMED_OUT
from rooms.events import append_event, notify, send_to_user
from rooms.frames import room_data, user_data
from rooms.models import Room

MAX_PER_ROOM = 5
TIMEOUT_MIN, TIMEOUT_MAX = 10, 24 * 3600

AnyUser = User | AnonymousUser


def is_moderator(*, user: AnyUser, room: Room) -> bool:
    """A room moderator the host named, or a site moderator."""
    if not user.is_authenticated:
        return False
    return user.has_perm("comments.moderate_comment") or RoomModerator.objects.filter(room=room, user=user).exists()


def can_moderate(*, user: AnyUser, room: Room) -> bool:
    """The host, or a moderator of the room."""
    return user.is_authenticated and (user.pk == room.host_id or is_moderator(user=user, room=room))


def require_moderator(*, user: AnyUser, room: Room) -> User:
    moderator = require_user(user)
    if not can_moderate(user=moderator, room=room):
        raise ActionError("forbidden", _("Only the host or a moderator can do that."))
    return moderator


def require_may_moderate(*, by: User, target: User, room: Room) -> None:
    """The host moderates anyone but themselves; a moderator, anyone but the host and moderators."""
    if target.pk == room.host_id:
        raise ActionError("forbidden", _("The host cannot be moderated in their own live."))
    if by.pk != room.host_id and is_moderator(user=target, room=room):
        raise ActionError("forbidden", _("A moderator cannot moderate another moderator."))


def moderators_data(room: Room) -> list[dict[str, Any]]:
    named = RoomModerator.objects.filter(room=room).select_related("user")
    return [{"id": m.user.pk, "username": m.user.username} for m in named]


def set_moderator(*, room: Room, user: AnyUser, username: str, on: bool) -> None:
    """The host names (or un-names) a room moderator; publishes `room.updated` {room: {moderators}}."""
    host = require_user(user)
    with locked_live_room(room) as locked:
        require_host(locked, host)
        target = User.objects.filter(username=username).first()
        if target is None:
            raise ActionError("not_found", _("There is no user %(name)r.") % {"name": username[:40]})
        if target.pk == locked.host_id:
            raise ActionError("bad_request", _("You moderate your own live already."))
        named = RoomModerator.objects.filter(room=locked, user=target)
        if on == named.exists():
            return
        if on:
            if RoomModerator.objects.filter(room=locked).count() >= MAX_PER_ROOM:
                raise ActionError("forbidden", _("A live has at most %(max)d moderators.") % {"max": MAX_PER_ROOM})
            RoomModerator.objects.create(room=locked, user=target)
        else:
            named.delete()
        append_event(locked, ROOM_UPDATED, {"room": {"moderators": moderators_data(locked)}})


def remove(*, room: Room, user: AnyUser, comment_id: int) -> None:
    """`comment.remove` from the room: the same removal as the admin's."""
    moderator = require_moderator(user=user, room=room)
    comment = Comment.objects.select_related("author").filter(room=room, pk=comment_id).first()
    if comment is None or comment.is_removed or not comment.is_published:
        raise ActionError("not_found", _("There is no such comment."))  # a held one is rejected instead
    require_may_moderate(by=moderator, target=comment.author, room=room)
    actions.remove_comment(comment=comment, by=moderator)


def timeout(*, room: Room, user: AnyUser, username: str, seconds: int) -> datetime | None:
    """Time a user out of commenting in the room for `seconds` (10 s to 24 h), or lift their
    timeout (0). A timeout is a ban with an end; a ban for good stays as it is. Returns the end."""
    moderator = require_moderator(user=user, room=room)
    if seconds != 0 and not TIMEOUT_MIN <= seconds <= TIMEOUT_MAX:
        raise ActionError(
            "bad_request",
            _("A timeout lasts %(min)d s to %(max)d s (0 lifts it).") % {"min": TIMEOUT_MIN, "max": TIMEOUT_MAX},
        )
    target = User.objects.filter(username=username).first()
    if target is None:
        raise ActionError("not_found", _("There is no user %(name)r.") % {"name": username[:40]})
    require_may_moderate(by=moderator, target=target, room=room)
    until = timezone.now() + timedelta(seconds=seconds) if seconds else None
    with transaction.atomic():
        ban = Ban.objects.select_for_update().filter(user=target, room=room).first()
        if ban is not None and ban.until is None and until is not None:
            raise ActionError(
                "bad_request", _("%(name)s is banned from this live for good already.") % {"name": username}
            )
        if until is None:
            lifted = Ban.objects.filter(user=target, room=room, until__isnull=False).delete()[0]
            if not lifted:
                # No timeout to lift (never given, over, or a ban for good, which stays): nothing
                # changes, so nobody is told (their page must not think a ban for good was lifted).
                return None
        elif ban is None:
            Ban.objects.create(user=target, room=room, created_by=moderator, until=until, reason="timeout")
        else:
            ban.until, ban.created_by = until, moderator
            ban.save(update_fields=["until", "created_by"])
        send_to_user(room, target.pk, {"type": USER_TIMED_OUT, "until": until.isoformat() if until else None})
        notify(
            USER_TIMED_OUT,
            room=room,
            data={
                "room": room_data(room),
                "user": user_data(target),
                "by": user_data(moderator),
                "until": until.isoformat() if until else None,
            },
        )
    return until
