"""Every change to a room's lifecycle goes through these functions (views, admin, tasks)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from liverooms.errors import ActionError
from rooms import limits, seats
from rooms.access import locked_live_room, require_host, require_user
from rooms.catalogue import ROOM_ENDED, ROOM_STARTED, ROOM_UPDATED
from rooms.events import append_event, notify
from rooms.frames import room_data, user_data
from rooms.models import HOST_SEAT, SEAT_COUNT, Room, RoomStats, Seat, new_publish_token

TITLE_MAX = Room._meta.get_field("title").max_length or 120
_SLUG_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_SLUG_LENGTH = 10


def new_slug() -> str:
    """A short, unguessable, URL-safe room id."""
    return "".join(secrets.choice(_SLUG_ALPHABET) for _ in range(_SLUG_LENGTH))


def clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise ActionError("bad_request", _("Give the live a title."))
    if len(title) > TITLE_MAX:
        raise ActionError("too_long", _("A title is at most %(max)d characters.") % {"max": TITLE_MAX})
    return title


def create_room(*, host: User, title: str) -> Room:
    """Open a live room with its four seats, the host on seat 0. Refused while the host is
    live in ROOMS_LIVE_PER_HOST rooms already, or opens rooms faster than ROOMS_CREATED_PER_HOUR
    (rooms.limits; checked under a lock on the host's row, so two parallel requests cannot both
    pass)."""
    title = clean_title(title)
    slug = new_slug()
    while Room.objects.filter(slug=slug).exists():
        slug = new_slug()
    now = timezone.now()
    with transaction.atomic():
        limits.check_can_create_room(host=host)
        room = Room.objects.create(slug=slug, title=title, host=host, started_at=now, host_seen_at=now)
        Seat.objects.bulk_create(
            Seat(
                room=room,
                index=index,
                user=host if index == HOST_SEAT else None,
                publish_token=new_publish_token() if index == HOST_SEAT else None,
            )
            for index in range(SEAT_COUNT)
        )
        RoomStats.objects.create(room=room)
        notify(ROOM_STARTED, room=room, data={"room": room_data(room), "host": user_data(host)})
    return room


def end_room(*, room: Room) -> bool:
    """End a live room: seats stop publishing, `room.ended` goes out. False if already ended."""
    with transaction.atomic():
        locked = Room.objects.select_for_update().get(pk=room.pk)
        if not locked.is_live:
            return False
        locked.status = Room.Status.ENDED
        locked.ended_at = timezone.now()
        locked.save(update_fields=["status", "ended_at"])
        locked.seats.filter(publishing=True).update(publishing=False)
        append_event(locked, ROOM_ENDED, {"room": room_data(locked)})
    room.status, room.ended_at, room.last_seq = locked.status, locked.ended_at, locked.last_seq
    return True


def end_room_as_host(*, room: Room, user: User | AnonymousUser) -> None:
    """The host's "End live" (moderators end rooms from the admin)."""
    host = require_user(user)
    require_host(room, host)
    if not end_room(room=room):
        raise ActionError("room_ended", _("This live has ended."))


def set_comments_enabled(*, room: Room, user: User | AnonymousUser, enabled: bool) -> Room:
    """The host turns comments on or off for everyone; publishes `room.updated`."""
    host = require_user(user)
    with locked_live_room(room) as locked:
        require_host(locked, host)
        if locked.comments_enabled != enabled:
            locked.comments_enabled = enabled
            locked.save(update_fields=["comments_enabled"])
            append_event(locked, ROOM_UPDATED, {"room": room_data(locked)})
    room.comments_enabled = enabled
    return locked


def note_host_seen(*, room: Room, at: datetime | None = None) -> None:
    """Record that the host is present, which keeps the room from being swept as abandoned."""
    Room.objects.filter(pk=room.pk, status=Room.Status.LIVE).update(host_seen_at=at or timezone.now())


def note_present(*, room_id: int, host_id: int, user_ids: Iterable[int], at: datetime | None = None) -> None:
    """Record that these users have a socket in the room: the host keeps the room from being
    swept as abandoned, a guest keeps their seat."""
    at = at or timezone.now()
    present = set(user_ids)
    if host_id in present:
        Room.objects.filter(pk=room_id, status=Room.Status.LIVE).update(host_seen_at=at)
    if present:
        Seat.objects.filter(room_id=room_id, user_id__in=present).update(seen_at=at)


@dataclass(frozen=True)
class Swept:
    rooms_ended: int
    seats_freed: int


def sweep_abandoned(*, now: datetime | None = None) -> Swept:
    """End every live room whose host has been gone (no socket, no media) longer than
    ROOM_ABANDONED_AFTER seconds, and free the guest seats whose holders have been gone as long.
    Safe to run twice at once: each change re-checks under the room's lock."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.ROOM_ABANDONED_AFTER)
    host_publishing = Seat.objects.filter(room=OuterRef("pk"), index=HOST_SEAT, publishing=True)
    stale = Room.objects.filter(status=Room.Status.LIVE, host_seen_at__lt=cutoff).exclude(Exists(host_publishing))
    ended = sum(end_room(room=room) for room in stale.only("pk"))
    gone = Seat.objects.filter(
        room__status=Room.Status.LIVE, index__gt=HOST_SEAT, user__isnull=False, publishing=False, seen_at__lt=cutoff
    )
    freed = sum(
        seats.free_if_gone(room=Room(pk=room_id), index=index, cutoff=cutoff)
        for room_id, index in gone.values_list("room_id", "index")
    )
    return Swept(rooms_ended=ended, seats_freed=freed)
