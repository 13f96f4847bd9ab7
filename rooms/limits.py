"""How many rooms a host may have live, and how often anyone may open one (issue #12).

- `ROOMS_LIVE_PER_HOST` (default 1): a host already live that many times is not given another
  room; the answer names the live one so they can go back to it (nothing is ended for them: a
  host who forgot a tab would rather find their audience than lose it).
- `ROOMS_CREATED_PER_HOUR` (default 10) per user: a token bucket of that size, refilled over
  the hour, so a few restarts in a row work and a script opening rooms in a loop does not.

`check_can_create_room` must run in the transaction that creates the room: it locks the host's
user row first, so two requests of one host at once queue there and the second sees the first's
room (on SQLite the IMMEDIATE transaction already serialises every writer).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from liverooms.errors import ActionError, rate_limited
from liverooms.ratelimit import token_wait
from rooms.models import Room

HOUR = 3600.0


def live_per_host() -> int:
    return settings.ROOMS_LIVE_PER_HOST


def created_per_hour() -> int:
    return settings.ROOMS_CREATED_PER_HOUR


class AlreadyLive(ActionError):
    """The host is live as often as they may be; `room` is their newest live room."""

    def __init__(self, room: Room) -> None:
        super().__init__("forbidden", _("You are already live in “%(title)s”.") % {"title": room.title}, slug=room.slug)
        self.room = room


def check_can_create_room(*, host: User) -> None:
    """Refuse a new room with `AlreadyLive` or `rate_limited` (with `retry_after`); call it
    inside the `transaction.atomic()` that creates the room."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("check_can_create_room must run inside the transaction that creates the room")
    list(User.objects.select_for_update().filter(pk=host.pk).values_list("pk", flat=True))
    live = list(Room.objects.filter(host=host, status=Room.Status.LIVE).order_by("-created_at")[: live_per_host()])
    if len(live) >= live_per_host():
        raise AlreadyLive(live[0])
    per_hour = created_per_hour()
    wait = token_wait(f"rooms:create:{host.pk}", capacity=per_hour, per_second=per_hour / HOUR)
    if wait:
        raise rate_limited(_("You have started too many lives in a short time."), wait=wait)
