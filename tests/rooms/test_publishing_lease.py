"""`publishing` is a lease: set when media starts, renewed by the relay's process, expired by the
sweep when that process is gone (a killed relay must not leave a seat "publishing" for ever)."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from rooms import actions, seats
from rooms.events import events_after
from rooms.models import Room, Seat
from rooms.tasks import expire_publishing

pytestmark = pytest.mark.django_db

LEASE = 30


def seat(room: Room, index: int) -> Seat:
    return Seat.objects.get(room=room, index=index)


@override_settings(PUBLISHING_LEASE_SECONDS=LEASE)
def test_it_takes_a_lease_when_media_starts_and_drops_it_when_it_stops(room: Room) -> None:
    before = timezone.now()
    assert seats.set_publishing(room_id=room.pk, index=0, publishing=True)
    until = seat(room, 0).publishing_until
    assert until is not None
    assert before + timedelta(seconds=LEASE) <= until <= timezone.now() + timedelta(seconds=LEASE)
    assert seats.set_publishing(room_id=room.pk, index=0, publishing=False)
    assert seat(room, 0).publishing_until is None


@override_settings(PUBLISHING_LEASE_SECONDS=LEASE)
def test_a_renewal_extends_the_lease_of_publishing_seats_only(room: Room, bob) -> None:
    seats.seat_user(room=room, user=bob, index=1)
    seats.set_publishing(room_id=room.pk, index=0, publishing=True)
    first = seat(room, 0).publishing_until
    assert first is not None
    later = timezone.now() + timedelta(seconds=20)
    seq = Room.objects.get(pk=room.pk).last_seq
    # seat 1 is taken but not publishing, seat 2 is empty: neither gets a lease
    assert seats.renew_publishing(room_id=room.pk, indexes=[0, 1, 2], now=later) == [0]
    assert seat(room, 0).publishing_until == later + timedelta(seconds=LEASE)
    assert seat(room, 1).publishing_until is None
    assert seat(room, 2).publishing_until is None
    assert events_after(room.pk, seq) == []  # nothing for viewers
    # and the host counts as present as of the renewal
    assert Room.objects.get(pk=room.pk).host_seen_at == later


@override_settings(PUBLISHING_LEASE_SECONDS=LEASE)
def test_a_lapsed_lease_turns_publishing_off_with_a_seat_update(room: Room) -> None:
    seats.set_publishing(room_id=room.pk, index=0, publishing=True)
    seq = Room.objects.get(pk=room.pk).last_seq
    until = seat(room, 0).publishing_until
    assert until is not None
    assert seats.expire_publishing(now=until) == 0  # not before the lease ends
    assert seat(room, 0).publishing
    assert seats.expire_publishing(now=until + timedelta(seconds=1)) == 1
    assert not seat(room, 0).publishing
    assert seat(room, 0).publishing_until is None
    (frame,) = events_after(room.pk, seq)
    assert frame["type"] == "seat.updated"
    assert frame["seat"]["index"] == 0
    assert frame["seat"]["publishing"] is False
    assert seats.expire_publishing(now=until + timedelta(seconds=60)) == 0  # once


@override_settings(PUBLISHING_LEASE_SECONDS=LEASE)
def test_a_renewed_lease_does_not_expire(room: Room) -> None:
    seats.set_publishing(room_id=room.pk, index=0, publishing=True)
    start = timezone.now()
    for n in range(1, 10):  # renewed every 10 s for 90 s
        seats.renew_publishing(room_id=room.pk, indexes=[0], now=start + timedelta(seconds=10 * n))
        assert seats.expire_publishing(now=start + timedelta(seconds=10 * n + 1)) == 0
    assert seat(room, 0).publishing


@override_settings(PUBLISHING_LEASE_SECONDS=LEASE)
def test_the_sweep_rechecks_the_lease_under_the_lock(room: Room) -> None:
    """A renewal that lands between the sweep's look-up and its lock wins: the seat stays on."""
    seats.set_publishing(room_id=room.pk, index=0, publishing=True)
    now = timezone.now() + timedelta(seconds=LEASE + 1)
    seats.renew_publishing(room_id=room.pk, indexes=[0], now=now)
    assert not seats.set_publishing(room_id=room.pk, index=0, publishing=False, lapsed_before=now)
    assert seat(room, 0).publishing


@override_settings(PUBLISHING_LEASE_SECONDS=LEASE, ROOM_ABANDONED_AFTER=60)
def test_a_dead_relays_room_ends_a_grace_after_its_last_renewal(room: Room, alice) -> None:
    """The host only published (OBS, no page open); the relay's process died after a renewal."""
    seats.set_publishing(room_id=room.pk, index=0, publishing=True)
    last = timezone.now() + timedelta(seconds=600)  # a long live, renewed all along
    seats.renew_publishing(room_id=room.pk, indexes=[0], now=last)
    # while the lease holds, the sweep keeps the room (its host seat publishes)
    assert actions.sweep_abandoned(now=last + timedelta(seconds=LEASE)).rooms_ended == 0
    assert seats.expire_publishing(now=last + timedelta(seconds=LEASE + 1)) == 1
    # the host was last seen at the last renewal: the room ends a grace after it, not before
    assert actions.sweep_abandoned(now=last + timedelta(seconds=59)).rooms_ended == 0
    assert actions.sweep_abandoned(now=last + timedelta(seconds=61)).rooms_ended == 1
    assert Room.objects.get(pk=room.pk).status == "ended"


@override_settings(PUBLISHING_LEASE_SECONDS=LEASE, ROOM_ABANDONED_AFTER=60)
def test_a_dead_relays_guest_is_freed_a_grace_after_the_last_renewal(room: Room, alice, bob) -> None:
    seats.seat_user(room=room, user=bob, index=1)
    seats.set_publishing(room_id=room.pk, index=1, publishing=True)
    last = timezone.now() + timedelta(seconds=300)
    seats.renew_publishing(room_id=room.pk, indexes=[1], now=last)
    # the host's page stays open throughout
    actions.note_present(room_id=room.pk, host_id=alice.pk, user_ids={alice.pk}, at=last + timedelta(seconds=120))
    assert seats.expire_publishing(now=last + timedelta(seconds=LEASE + 1)) == 1
    assert actions.sweep_abandoned(now=last + timedelta(seconds=59)).seats_freed == 0
    assert actions.sweep_abandoned(now=last + timedelta(seconds=61)).seats_freed == 1
    assert seat(room, 1).user is None


def test_an_ended_rooms_seats_are_not_renewed(room: Room) -> None:
    seats.set_publishing(room_id=room.pk, index=0, publishing=True)
    actions.end_room(room=room)
    assert seats.renew_publishing(room_id=room.pk, indexes=[0]) == []
    assert not seat(room, 0).publishing


@override_settings(PUBLISHING_LEASE_SECONDS=1)
@pytest.mark.skipif("not __import__('django.conf').conf.settings.CELERY_TASK_ALWAYS_EAGER")
def test_the_beat_task_expires_lapsed_leases(room: Room) -> None:
    seats.set_publishing(room_id=room.pk, index=0, publishing=True)
    Seat.objects.filter(room=room, index=0).update(publishing_until=timezone.now() - timedelta(seconds=1))
    assert expire_publishing.delay().get() == 1
    assert not seat(room, 0).publishing
