"""What one client may take of a room: action tokens per user, socket slots per address.

Every frame a socket sends costs a token of its own bucket (rooms.consumers); every action (a
frame other than a heart) also costs a token of the user's bucket in the room, shared by all their
sockets and processes (Redis), larger for the host and moderators. Sockets are counted per client
address in each process (rooms.hub.Hubs.join).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext as _

from liverooms.errors import ActionError, rate_limited
from liverooms.ratelimit import retry_after, token_wait
from rooms.models import Room

# How long a refused socket is told to wait before it tries again.
SOCKET_RETRY_AFTER = 10


def take_action_token(*, room: Room, user: User | AnonymousUser) -> None:
    """Raise `rate_limited` (with `retry_after`) when the user is acting too fast in the room.
    Anonymous callers have only their socket's bucket (their actions are refused anyway)."""
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return
    staff = user.pk == room.host_id or user.has_perm("comments.moderate_comment")
    burst, per_minute = (
        (settings.STAGE_ACTION_BURST, settings.STAGE_ACTIONS_PER_MINUTE)
        if staff
        else (settings.ACTION_BURST, settings.ACTIONS_PER_MINUTE)
    )
    if wait := token_wait(f"action:{room.pk}:{user.pk}", capacity=burst, per_second=per_minute / 60):
        raise rate_limited(_("You are doing that too fast; wait a moment."), wait=wait)


class TooManySockets(ActionError):
    """A client address (or the whole process) holds all the room sockets it may."""

    def __init__(self, message: str) -> None:
        super().__init__("rate_limited", message, retry_after=retry_after(SOCKET_RETRY_AFTER))
