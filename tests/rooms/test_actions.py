from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from comments.actions import post_comment
from liverooms.errors import ActionError
from rooms import actions, seats
from rooms.events import events_after
from rooms.models import Room, RoomEvent
from rooms.seats import seat_user, set_publishing

pytestmark = pytest.mark.django_db


def test_it_opens_a_room_with_four_seats_and_the_host_on_seat_0(alice) -> None:
    room = actions.create_room(host=alice, title="  Morning   coffee  ")
    assert room.title == "Morning coffee"
    assert room.status == "live"
    assert room.started_at is not None
    seats = list(room.seats.order_by("index").values_list("index", "user"))
    assert seats == [(0, alice.pk), (1, None), (2, None), (3, None)]
    assert len(room.slug) >= 10


@override_settings(ROOMS_LIVE_PER_HOST=20, ROOMS_CREATED_PER_HOUR=20)  # one host opening 20 lives
def test_it_gives_every_room_its_own_slug(alice) -> None:
    slugs = {actions.create_room(host=alice, title=f"live {n}").slug for n in range(20)}
    assert len(slugs) == 20


@pytest.mark.parametrize(("title", "code"), [("   ", "bad_request"), ("x" * 121, "too_long")])
def test_it_refuses_a_bad_title(alice, title: str, code: str) -> None:
    with pytest.raises(ActionError) as refused:
        actions.create_room(host=alice, title=title)
    assert refused.value.code == code
    assert not Room.objects.exists()


def test_it_ends_a_room_once_and_publishes_it(room: Room, alice) -> None:
    room.seats.filter(index=0).update(publishing=True)
    assert actions.end_room(room=room) is True
    assert actions.end_room(room=room) is False
    room.refresh_from_db()
    assert room.status == "ended"
    assert room.ended_at is not None
    assert not room.seats.filter(publishing=True).exists()
    assert [e["type"] for e in events_after(room.pk, 0)] == ["room.ended"]


def test_it_seats_a_guest_and_publishes_the_seat(room: Room, bob) -> None:
    seats.seat_user(room=room, user=bob, index=2)
    (frame,) = events_after(room.pk, 0)
    assert frame == {
        "type": "seat.updated",
        "seq": 1,
        "seat": {
            "index": 2,
            "user": {"id": bob.pk, "username": "bob"},
            "camera": True,
            "mic": True,
            "publishing": False,
        },
    }


@pytest.mark.parametrize(("index", "code"), [(0, "bad_request"), (4, "bad_request"), (1, "room_full")])
def test_it_refuses_a_seat_that_cannot_be_taken(room: Room, bob, carol, index: int, code: str) -> None:
    seats.seat_user(room=room, user=carol, index=1)
    with pytest.raises(ActionError) as refused:
        seats.seat_user(room=room, user=bob, index=index)
    assert refused.value.code == code
    assert not room.seats.filter(user=bob).exists()


def test_it_numbers_a_rooms_events_without_gaps(room: Room, carol) -> None:
    post_comment(room=room, author=carol, text="one")
    with pytest.raises(ActionError):
        post_comment(room=room, author=carol, text="x" * 501)  # refused: must not use up a seq
    post_comment(room=room, author=carol, text="two")
    actions.end_room(room=room)
    assert [e["seq"] for e in events_after(room.pk, 0)] == [1, 2, 3]
    assert [e["seq"] for e in events_after(room.pk, 2)] == [3]
    room.refresh_from_db()
    assert room.last_seq == 3


def test_it_keeps_each_rooms_sequence_separate(room: Room, bob, carol) -> None:
    other = actions.create_room(host=bob, title="Bob live")
    post_comment(room=room, author=carol, text="a")
    post_comment(room=other, author=carol, text="b")
    assert list(RoomEvent.objects.order_by("id").values_list("room_id", "seq")) == [(room.pk, 1), (other.pk, 1)]


@override_settings(ROOM_ABANDONED_AFTER=60)
def test_it_ends_only_rooms_whose_host_is_gone(alice, bob, carol) -> None:
    gone = actions.create_room(host=alice, title="gone")
    actions.create_room(host=bob, title="here")
    publishing = actions.create_room(host=carol, title="on air")
    long_ago = timezone.now() - timedelta(seconds=120)
    Room.objects.filter(pk__in=[gone.pk, publishing.pk]).update(host_seen_at=long_ago)
    publishing.seats.filter(index=0).update(publishing=True)

    assert actions.sweep_abandoned().rooms_ended == 1
    assert dict(Room.objects.values_list("title", "status")) == {"gone": "ended", "here": "live", "on air": "live"}
    assert actions.sweep_abandoned().rooms_ended == 0
    assert RoomEvent.objects.filter(room=gone, type="room.ended").count() == 1


@override_settings(ROOM_ABANDONED_AFTER=60)
def test_a_host_with_a_socket_keeps_the_room(room: Room, alice) -> None:
    later = timezone.now() + timedelta(seconds=50)
    actions.note_present(room_id=room.pk, host_id=alice.pk, user_ids={alice.pk}, at=later)
    assert actions.sweep_abandoned(now=later + timedelta(seconds=59)).rooms_ended == 0
    assert actions.sweep_abandoned(now=later + timedelta(seconds=61)).rooms_ended == 1


@override_settings(ROOM_ABANDONED_AFTER=60)
def test_it_frees_the_seats_of_guests_who_are_gone(room: Room, alice, bob, carol) -> None:
    seat_user(room=room, user=bob, index=1)
    seat_user(room=room, user=carol, index=2)
    later = timezone.now() + timedelta(seconds=90)
    # The host and carol still have sockets; bob left 90 s ago.
    actions.note_present(room_id=room.pk, host_id=alice.pk, user_ids={alice.pk, carol.pk}, at=later)

    swept = actions.sweep_abandoned(now=later)

    assert swept == actions.Swept(rooms_ended=0, seats_freed=1)
    assert dict(room.seats.values_list("index", "user__username")) == {0: "alice", 1: None, 2: "carol", 3: None}
    freed = RoomEvent.objects.filter(room=room, type="seat.updated").last()
    assert freed is not None
    assert freed.frame["seat"] == {**freed.frame["seat"], "index": 1, "user": None}
    assert actions.sweep_abandoned(now=later).seats_freed == 0


@override_settings(ROOM_ABANDONED_AFTER=60)
def test_a_guest_who_publishes_keeps_the_seat_without_a_socket(room: Room, alice, bob) -> None:
    seat_user(room=room, user=bob, index=1)
    set_publishing(room_id=room.pk, index=1, publishing=True)
    later = timezone.now() + timedelta(seconds=300)
    actions.note_present(room_id=room.pk, host_id=alice.pk, user_ids={alice.pk}, at=later + timedelta(seconds=61))
    assert actions.sweep_abandoned(now=later).seats_freed == 0
    # Media stopped: the guest has the grace period from then on.
    set_publishing(room_id=room.pk, index=1, publishing=False)
    stopped = timezone.now()
    assert actions.sweep_abandoned(now=stopped + timedelta(seconds=59)).seats_freed == 0
    assert actions.sweep_abandoned(now=stopped + timedelta(seconds=61)).seats_freed == 1
