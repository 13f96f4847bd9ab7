"""The host's comment settings for a live: comments on or off, and slow mode."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext as _

from comments.models import Hotline
from liverooms.errors import ActionError
from rooms import actions as rooms
from rooms.access import locked_live_room, require_host, require_user
from rooms.catalogue import ROOM_UPDATED
from rooms.events import append_event
from rooms.models import Room

SLOW_MODE_MAX = 600


def set_comment_settings(
    *, room: Room, user: User | AnonymousUser, enabled: bool | None = None, slow_mode: int | None = None
) -> None:
    """`comments.set`: `enabled` turns comments on or off (`room.updated` {room}); `slow_mode`
    (0 to 600 s, 0: off) makes each viewer wait that long between comments (`room.updated`
    {room: {slow_mode}})."""
    if enabled is None and slow_mode is None:
        raise ActionError("bad_request", _("`comments.set` needs `enabled` or `slow_mode`."))
    if slow_mode is not None and not 0 <= slow_mode <= SLOW_MODE_MAX:
        raise ActionError("bad_request", _("`slow_mode` is 0 to %(max)d seconds.") % {"max": SLOW_MODE_MAX})
    if enabled is not None:
        rooms.set_comments_enabled(room=room, user=user, enabled=enabled)
    if slow_mode is not None:
        host = require_user(user)
        with locked_live_room(room) as locked:
            require_host(locked, host)
            hotline, _created = Hotline.objects.get_or_create(room=locked)
            if hotline.slow_mode != slow_mode:
                hotline.slow_mode = slow_mode
                hotline.save(update_fields=["slow_mode"])
                append_event(locked, ROOM_UPDATED, {"room": {"slow_mode": slow_mode}})
