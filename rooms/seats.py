"""Seat actions: who sits on the stage, and whether their camera and mic are on.

Each function takes the room and the acting user, checks the caller's right under the room's
row lock, writes, and publishes: `seat.updated` to everyone (in the room's ordered stream), or an
ephemeral `seat.requested` / `seat.offered` / `seat.declined` / `seat.token` to the one user it
concerns.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from liverooms.errors import ActionError
from rooms.access import locked_live_room, require_host, require_user
from rooms.catalogue import SEAT_DECLINED, SEAT_OFFERED, SEAT_REQUESTED, SEAT_TOKEN, SEAT_UPDATED
from rooms.events import append_event, send_to_user
from rooms.frames import seat_data, user_data
from rooms.models import HOST_SEAT, SEAT_COUNT, Room, Seat, SeatInvite, SeatRequest, new_publish_token

AnyUser = User | AnonymousUser


def _free_guest_seat(room: Room, *, prefer: int | None = None) -> Seat | None:
    free = room.seats.filter(user__isnull=True, index__gt=HOST_SEAT).order_by("index")
    if prefer is not None and (seat := free.filter(index=prefer).first()):
        return seat
    return free.first()


def _publish(room: Room, seat: Seat) -> Seat:
    append_event(room, SEAT_UPDATED, {"seat": seat_data(seat)})
    return seat


def whip_data(room: Room, seat: Seat) -> dict[str, str | None]:
    """Where and how the seat's holder publishes: `room.state` → `you.whip` and `seat.token`."""
    return {"url": f"/rooms/{room.slug}/whip", "token": seat.publish_token}


def _sit(room: Room, seat: Seat, user: User) -> Seat:
    seat.user, seat.camera, seat.mic, seat.publishing, seat.publishing_until = user, True, True, False, None
    seat.publish_token = new_publish_token()
    seat.seen_at = timezone.now()
    seat.audio_only = False
    fields = ["user", "camera", "mic", "publishing", "publishing_until", "publish_token", "seen_at", "audio_only"]
    seat.save(update_fields=fields)
    SeatRequest.objects.filter(room=room, user=user).delete()
    SeatInvite.objects.filter(room=room, user=user).delete()
    _publish(room, seat)
    # The new holder's own way to publish, after the `seat.updated` that seats them (both after
    # commit, in this order): their page can go live at once, without a new `room.state`.
    send_to_user(room, user.pk, {"type": SEAT_TOKEN, "index": seat.index, "whip": whip_data(room, seat)})
    return seat


def _vacate(room: Room, seat: Seat) -> Seat:
    seat.user, seat.camera, seat.mic, seat.publishing, seat.publish_token = None, True, True, False, None
    seat.publishing_until, seat.audio_only = None, False
    seat.save(update_fields=["user", "camera", "mic", "publishing", "publishing_until", "publish_token", "audio_only"])
    return _publish(room, seat)


def request_seat(*, room: Room, user: AnyUser) -> None:
    """A viewer asks to join the stage; the host sees `seat.requested`."""
    viewer = require_user(user)
    with locked_live_room(room) as locked:
        if locked.seats.filter(user=viewer).exists():
            raise ActionError("forbidden", gettext("You are already on stage."))
        if _free_guest_seat(locked) is None:
            raise ActionError("room_full", gettext("All seats are taken."))
        SeatRequest.objects.get_or_create(room=locked, user=viewer)
        send_to_user(locked, locked.host_id, {"type": SEAT_REQUESTED, "user": user_data(viewer)})


def invite(*, room: Room, user: AnyUser, username: str) -> SeatInvite:
    """The host offers a free seat to `username`, who sees `seat.offered`."""
    host = require_user(user)
    with locked_live_room(room) as locked:
        require_host(locked, host)
        guest = User.objects.filter(username=username, is_active=True).first()
        if guest is None:
            raise ActionError("not_found", gettext("There is no user called %(name)r.") % {"name": username})
        if locked.seats.filter(user=guest).exists():
            raise ActionError("forbidden", gettext("%(name)s is already on stage.") % {"name": guest.username})
        offered = set(SeatInvite.objects.filter(room=locked).exclude(user=guest).values_list("index", flat=True))
        free = [s.index for s in locked.seats.filter(user__isnull=True, index__gt=HOST_SEAT).order_by("index")]
        if not free:
            raise ActionError("room_full", gettext("All seats are taken."))
        index = next((i for i in free if i not in offered), free[0])
        offer, _ = SeatInvite.objects.update_or_create(room=locked, user=guest, defaults={"index": index})
        SeatRequest.objects.filter(room=locked, user=guest).delete()
        send_to_user(locked, guest.pk, {"type": SEAT_OFFERED, "index": index, "by": user_data(host)})
        return offer


def accept(*, room: Room, user: AnyUser) -> Seat:
    """The invited user takes the offered seat (or another free one if it was taken meanwhile)."""
    guest = require_user(user)
    with locked_live_room(room) as locked:
        offer = SeatInvite.objects.filter(room=locked, user=guest).first()
        if offer is None:
            raise ActionError("not_found", gettext("You have no seat offer in this live."))
        if locked.seats.filter(user=guest).exists():
            raise ActionError("forbidden", gettext("You are already on stage."))
        seat = _free_guest_seat(locked, prefer=offer.index)
        if seat is None:
            raise ActionError("room_full", gettext("All seats are taken."))
        return _sit(locked, seat, guest)


def decline(*, room: Room, user: AnyUser) -> None:
    guest = require_user(user)
    with locked_live_room(room) as locked:
        deleted, _ = SeatInvite.objects.filter(room=locked, user=guest).delete()
        if not deleted:
            raise ActionError("not_found", gettext("You have no seat offer in this live."))
        send_to_user(locked, locked.host_id, {"type": SEAT_DECLINED, "user": user_data(guest)})


def leave(*, room: Room, user: AnyUser) -> Seat:
    """A guest steps down; the host ends the live instead of leaving seat 0."""
    guest = require_user(user)
    with locked_live_room(room) as locked:
        seat = locked.seats.filter(user=guest).first()
        if seat is None:
            raise ActionError("forbidden", gettext("You are not on stage."))
        if seat.index == HOST_SEAT:
            raise ActionError("forbidden", gettext("The host ends the live instead of leaving."))
        return _vacate(locked, seat)


def remove(*, room: Room, user: AnyUser, index: int) -> Seat:
    """The host takes a guest off the stage."""
    host = require_user(user)
    with locked_live_room(room) as locked:
        require_host(locked, host)
        if not HOST_SEAT < index < SEAT_COUNT:
            raise ActionError("bad_request", gettext("Guest seats are 1 to %(max)d.") % {"max": SEAT_COUNT - 1})
        seat = locked.seats.get(index=index)
        if seat.user_id is None:
            raise ActionError("not_found", gettext("Seat %(index)d is empty.") % {"index": index})
        return _vacate(locked, seat)


def free_if_gone(*, room: Room, index: int, cutoff: datetime) -> bool:
    """Free guest seat `index` if its holder has not been seen (socket or media) since `cutoff`;
    the abandoned-room sweep's part for guests. False if they came back meanwhile."""
    with transaction.atomic():
        locked = Room.objects.select_for_update().get(pk=room.pk)
        seat = locked.seats.get(index=index)
        if not locked.is_live or index == HOST_SEAT or seat.user_id is None:
            return False
        if seat.publishing or seat.seen_at >= cutoff:
            return False
        _vacate(locked, seat)
        return True


def set_devices(
    *, room: Room, user: AnyUser, index: int | None = None, camera: bool | None = None, mic: bool | None = None
) -> Seat:
    """Turn a seat's camera and/or mic on or off.

    The seat's owner may do either; the host may turn another seat's camera or mic off, never
    on (a guest's camera comes on only by the guest's own hand). A camera cannot be turned on
    while the seat's publisher sends no video (`audio_only`): publishing with video turns it on.
    """
    actor = require_user(user)
    if camera is None and mic is None:
        raise ActionError("bad_request", gettext("Say `camera`, `mic` or both."))
    with locked_live_room(room) as locked:
        if index is None:
            seat = locked.seats.filter(user=actor).first()
            if seat is None:
                raise ActionError("forbidden", gettext("You are not on stage."))
        else:
            if not 0 <= index < SEAT_COUNT:
                raise ActionError("bad_request", gettext("Seats are 0 to %(max)d.") % {"max": SEAT_COUNT - 1})
            seat = locked.seats.get(index=index)
            if seat.user_id != actor.pk:
                if actor.pk != locked.host_id:
                    raise ActionError("forbidden", gettext("Only the seat's owner can change it."))
                if seat.user_id is None:
                    raise ActionError("not_found", gettext("Seat %(index)d is empty.") % {"index": index})
                if camera is True or mic is True:
                    raise ActionError("forbidden", gettext("Only the guest can turn their camera or mic on."))
        if camera is True and seat.audio_only:
            raise ActionError(
                "forbidden",
                gettext("Your stream sends no video: publish with video to turn the camera on."),
            )
        wanted = {field: value for field, value in (("camera", camera), ("mic", mic)) if value is not None}
        if all(getattr(seat, field) == value for field, value in wanted.items()):
            return seat  # already so: nothing to publish
        for field, value in wanted.items():
            setattr(seat, field, value)
        seat.save(update_fields=list(wanted))
        return _publish(locked, seat)


def seat_user(*, room: Room, user: User, index: int) -> Seat:
    """Put `user` straight on the empty guest seat `index` (the demo data; the host's invite
    otherwise goes through `invite` and the guest's `accept`)."""
    if not HOST_SEAT < index < SEAT_COUNT:
        raise ActionError("bad_request", gettext("Guest seats are 1 to %(max)d.") % {"max": SEAT_COUNT - 1})
    with locked_live_room(room) as locked:
        if locked.seats.filter(user=user).exists():
            raise ActionError("forbidden", "Already on stage.")
        seat = locked.seats.get(index=index)
        if seat.user_id is not None:
            raise ActionError("room_full", "That seat is taken.")
        return _sit(locked, seat, user)


def set_audio_only(*, room_id: int, index: int, user_id: int, audio_only: bool) -> bool:
    """The media relay answered a publisher of seat `index` (held by `user_id`) whose offer has
    no video (`audio_only`) or has video: the seat's camera shows off while its publisher sends
    none, and follows the holder's own choice (`camera`) again once one sends video. Publishes
    `seat.updated` when that changes; False if nothing changed (or the seat changed hands)."""
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=room_id)
        seat = room.seats.get(index=index)
        if not room.is_live or seat.user_id != user_id or seat.audio_only == audio_only:
            return False
        seat.audio_only = audio_only
        seat.save(update_fields=["audio_only"])
        _publish(room, seat)
        return True


def _lease_end(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.PUBLISHING_LEASE_SECONDS)


def set_publishing(*, room_id: int, index: int, publishing: bool, lapsed_before: datetime | None = None) -> bool:
    """The media relay reports that a seat's media started or stopped flowing; publishes
    `seat.updated` when that changes what viewers see. False if nothing changed.

    `publishing` is a lease: starting takes one of PUBLISHING_LEASE_SECONDS, which the relay's
    process renews (`renew_publishing`). With `lapsed_before` (the sweep's `expire_publishing`), the
    seat stops only if its lease still ended before then (a renewal meanwhile keeps it), and its
    holder counts as last seen when the lease was last renewed, not now."""
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=room_id)
        seat = room.seats.get(index=index)
        now = timezone.now()
        if lapsed_before is not None:
            if publishing or not seat.publishing or seat.publishing_until is None:
                return False
            if seat.publishing_until >= lapsed_before:
                return False
            seen = seat.publishing_until - timedelta(seconds=settings.PUBLISHING_LEASE_SECONDS)
            seat.seen_at = max(seat.seen_at, seen)
        else:
            seat.seen_at = now  # media just flowed: the holder was here
        if publishing and seat.publishing:
            # already on: a fresh lease, nothing for viewers
            Seat.objects.filter(pk=seat.pk).update(publishing_until=_lease_end(now), seen_at=now)
            return False
        if seat.publishing == publishing or (publishing and (seat.user_id is None or not room.is_live)):
            return False
        seat.publishing = publishing
        seat.publishing_until = _lease_end(now) if publishing else None
        seat.save(update_fields=["publishing", "publishing_until", "seen_at"])
        _publish(room, seat)
        return True


def renew_publishing(*, room_id: int, indexes: Collection[int], now: datetime | None = None) -> list[int]:
    """The process relaying the room's media still receives seats `indexes`: extend their leases
    (and count their holders, the host too, as present). Returns the indexes renewed: a seat not
    among them is not `publishing` here (it never was yet, or its lease lapsed) and the caller
    says so with `set_publishing`. One UPDATE; no event (nothing viewers see changes)."""
    if not indexes:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        held = Seat.objects.filter(
            room_id=room_id, room__status=Room.Status.LIVE, index__in=list(indexes), publishing=True
        )
        renewed = sorted(held.values_list("index", flat=True))
        if renewed:
            leased = Seat.objects.filter(room_id=room_id, index__in=renewed)
            leased.update(publishing_until=_lease_end(now), seen_at=now)
            if HOST_SEAT in renewed:
                Room.objects.filter(pk=room_id, status=Room.Status.LIVE).update(host_seen_at=now)
    return renewed


def expire_publishing(*, now: datetime | None = None) -> int:
    """Turn `publishing` off (a `seat.updated` each, as when media stops) on every seat whose lease
    ran out before `now`: the process relaying it died without saying so. Returns how many."""
    now = now or timezone.now()
    lapsed = Seat.objects.filter(publishing=True, publishing_until__lt=now).values_list("room_id", "index")
    return sum(
        set_publishing(room_id=room_id, index=index, publishing=False, lapsed_before=now) for room_id, index in lapsed
    )


def rotate_publish_token(*, room: Room, user: AnyUser) -> tuple[Seat, str | None]:
    """A seat holder replaces their WHIP bearer token (the studio's "New token"): the old one stops
    working at once. Returns the seat, holding the new token, and the old token (the media relay
    ends a stream published with it). Nothing anyone else sees changes: only the holder's own
    sockets get `seat.token` with the new one."""
    holder = require_user(user)
    with locked_live_room(room) as locked:
        seat = locked.seats.filter(user=holder).first()
        if seat is None:
            raise ActionError("forbidden", gettext("You are not on stage."))
        old = seat.publish_token
        seat.publish_token = new_publish_token()
        seat.save(update_fields=["publish_token"])
        # the holder's other tabs learn the new token too, or their Go live would fail with the old one
        send_to_user(locked, holder.pk, {"type": SEAT_TOKEN, "index": seat.index, "whip": whip_data(locked, seat)})
        return seat, old
