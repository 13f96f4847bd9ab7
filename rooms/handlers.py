"""Route a checked client frame to the action that owns it (runs in a worker thread).

The room's own frames (seats, the end of the live) are here; other apps register theirs from
their AppConfig.ready (`register_handler`: comments, Q&A, moderation), so rooms imports none of
them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from rooms import actions as rooms
from rooms import seats
from rooms.models import Room
from rooms.protocol import ClientFrame
from rooms.throttle import take_action_token

AnyUser = User | AnonymousUser
Handler = Callable[[Room, AnyUser, dict[str, Any]], object]

HANDLERS: dict[str, Handler] = {
    "seat.set": lambda room, user, f: seats.set_devices(room=room, user=user, **f),
    "seat.request": lambda room, user, f: seats.request_seat(room=room, user=user),
    "seat.invite": lambda room, user, f: seats.invite(room=room, user=user, username=f["username"]),
    "seat.accept": lambda room, user, f: seats.accept(room=room, user=user),
    "seat.decline": lambda room, user, f: seats.decline(room=room, user=user),
    "seat.leave": lambda room, user, f: seats.leave(room=room, user=user),
    "seat.remove": lambda room, user, f: seats.remove(room=room, user=user, index=f["index"]),
    "room.end": lambda room, user, f: rooms.end_room_as_host(room=room, user=user),
}
_WITH_REF: set[str] = set()  # frame types whose handler gets the frame's `ref` in `fields["ref"]`


def register_handler(frame_type: str, handler: Handler, *, with_ref: bool = False) -> None:
    """Route client frames of `frame_type` (described in rooms.protocol) to `handler`, which
    returns the extra fields of the `ack` (a dict) or anything else for none, and raises
    ActionError to refuse."""
    if HANDLERS.get(frame_type, handler) is not handler:
        raise ValueError(f"{frame_type} already has a handler")
    HANDLERS[frame_type] = handler
    if with_ref:
        _WITH_REF.add(frame_type)


def handle(frame: ClientFrame, *, room: Room, user: AnyUser) -> dict[str, Any]:
    """Run the frame's action; returns the extra fields of its `ack`. Raises ActionError."""
    take_action_token(room=room, user=user)
    fields = {**frame.fields, "ref": frame.ref} if frame.type in _WITH_REF else frame.fields
    extra = HANDLERS[frame.type](room, user, fields)
    return extra if isinstance(extra, dict) else {}
