"""Who may do what in a room: the checks every action starts with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils.translation import gettext as _

from liverooms.errors import ActionError
from rooms.models import HOST_SEAT, Room, Seat

Role = Literal["host", "guest", "moderator", "viewer", "anonymous"]


def require_user(user: User | AnonymousUser) -> User:
    """The signed-in user, or `unauthenticated`."""
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        raise ActionError("unauthenticated", _("Log in first."))
    return user


def require_host(room: Room, user: User) -> None:
    if user.pk != room.host_id:
        raise ActionError("forbidden", _("Only the host can do that."))


@contextmanager
def locked_live_room(room: Room) -> Iterator[Room]:
    """A transaction holding the room's row lock (actions on one room run one at a time)."""
    with transaction.atomic():
        locked = Room.objects.select_for_update().get(pk=room.pk)
        if not locked.is_live:
            raise ActionError("room_ended", _("This live has ended."))
        yield locked


def seat_of(room: Room, user: User | AnonymousUser) -> Seat | None:
    if not user.is_authenticated:
        return None
    return room.seats.filter(user=user).first()


def role_in(room: Room, user: User | AnonymousUser, seat: Seat | None, *, moderator: bool = False) -> Role:
    """`moderator`: a moderator of the room (named by the host, or a site moderator) off the stage."""
    if not user.is_authenticated:
        return "anonymous"
    if user.pk == room.host_id:
        return "host"
    if seat is not None and seat.index != HOST_SEAT:
        return "guest"
    return "moderator" if moderator else "viewer"
