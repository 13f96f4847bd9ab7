"""`room.state`: everything a socket needs to draw the room, consistent with one `seq`.

The room's part (the room, its seats, who you are) is read here; other apps add theirs
(comments, questions, reactions, the pinned comment, who moderates) through `register_state`,
and say who moderates a room through `register_moderator_check`, from their AppConfig.ready, so
rooms imports none of them. Each part runs inside the same read (and the same transaction, when
the read takes the room's lock)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from rooms.access import role_in
from rooms.catalogue import ROOM_STATE
from rooms.frames import room_data, seat_data, user_data
from rooms.models import Room, SeatInvite, SeatRequest

READ_TRIES = 3

AnyUser = User | AnonymousUser
# (room, user, state): add this app's fields to `state` (its `room` and `you` too); `state["you"]["role"]` is set.
StatePart = Callable[[Room, AnyUser, dict[str, Any]], None]
ModeratorCheck = Callable[[AnyUser, Room], bool]

_PARTS: list[StatePart] = []
_MODERATOR_CHECKS: list[ModeratorCheck] = []


def register_state(part: StatePart) -> None:
    _PARTS.append(part)


def register_moderator_check(check: ModeratorCheck) -> None:
    """`check(user, room)`: whether the user moderates the room (`you.role` `moderator`)."""
    _MODERATOR_CHECKS.append(check)


def is_moderator(user: AnyUser, room: Room) -> bool:
    return user.is_authenticated and any(check(user, room) for check in _MODERATOR_CHECKS)


def room_state(*, room_id: int, user: AnyUser, viewers: int) -> dict[str, Any]:
    """The snapshot frame, consistent with the `seq` it names.

    A join does not take the room's write lock (a flood of joins would queue every commenter
    behind it): the rows are read without a lock, then the room's `last_seq` once more. Every
    change that shows here commits with an event, so an unchanged `last_seq` means nothing
    committed meanwhile. A busy room that moved on is read again; after READ_TRIES, under the lock.
    """
    for _ in range(READ_TRIES):
        state = _read(room_id=room_id, user=user, viewers=viewers, lock=False)
        if Room.objects.values_list("last_seq", flat=True).get(pk=room_id) == state["seq"]:
            return state
    return _read(room_id=room_id, user=user, viewers=viewers, lock=True)


def _read(*, room_id: int, user: AnyUser, viewers: int, lock: bool) -> dict[str, Any]:
    with transaction.atomic() if lock else contextlib.nullcontext():
        rooms = Room.objects.select_for_update() if lock else Room.objects.all()
        room = rooms.select_related("host").get(pk=room_id)
        seats = list(room.seats.select_related("user").order_by("index"))
        mine = next((s for s in seats if user.is_authenticated and s.user_id == user.pk), None)
        you: dict[str, Any] = {
            "user": user_data(user) if isinstance(user, User) else None,
            "role": role_in(room, user, mine, moderator=is_moderator(user, room)),
            "seat": mine.index if mine else None,
        }
        if mine is not None:
            # where and how to publish this seat (the studio page; OBS/FFmpeg take the same two)
            you["whip"] = {"url": f"/rooms/{room.slug}/whip", "token": mine.publish_token}
        if you["role"] == "host":
            requests = SeatRequest.objects.filter(room=room).select_related("user")
            you["requests"] = [user_data(r.user) for r in requests]
        elif user.is_authenticated:
            offer = SeatInvite.objects.filter(room=room, user_id=user.pk).first()
            you["offer"] = offer.index if offer else None
        state: dict[str, Any] = {
            "type": ROOM_STATE,
            "seq": room.last_seq,
            "room": {**room_data(room), "host": user_data(room.host)},
            "seats": [seat_data(seat) for seat in seats],
            "viewers": viewers,
            "you": you,
        }
        for part in _PARTS:
            part(room, user, state)
        return state
