"""The database itself refuses what the rules forbid, whatever code writes to it."""

import pytest
from django.db import DataError, IntegrityError, transaction

from comments.models import Comment
from rooms.models import Room, RoomEvent, Seat

pytestmark = pytest.mark.django_db


def test_it_refuses_a_fifth_seat(room: Room) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Seat.objects.create(room=room, index=4)
    assert room.seats.count() == 4


def test_it_refuses_a_second_seat_with_the_same_index(room: Room) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Seat.objects.create(room=room, index=2)


def test_it_refuses_a_second_seat_for_the_same_user(room: Room, bob) -> None:
    Seat.objects.filter(room=room, index=1).update(user=bob)
    with pytest.raises(IntegrityError), transaction.atomic():
        Seat.objects.filter(room=room, index=2).update(user=bob)
    assert list(room.seats.filter(user=bob).values_list("index", flat=True)) == [1]


def test_it_lets_a_user_hold_seats_in_different_rooms(room: Room, alice, bob) -> None:
    from rooms.actions import create_room

    other = create_room(host=bob, title="Bob live")
    Seat.objects.filter(room=other, index=1).update(user=alice)
    assert Seat.objects.filter(user=alice).count() == 2


def test_it_refuses_publishing_on_an_empty_seat(room: Room) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Seat.objects.filter(room=room, index=3).update(publishing=True)


def test_it_refuses_an_over_long_comment(room: Room, carol) -> None:
    # PostgreSQL's varchar(500) says DataError before the check constraint can; SQLite has only the check.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Comment.objects.create(room=room, author=carol, text="x" * 501)
    Comment.objects.create(room=room, author=carol, text="x" * 500)
    assert Comment.objects.count() == 1


def test_it_refuses_an_empty_comment(room: Room, carol) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.create(room=room, author=carol, text="")


def test_it_refuses_an_ended_room_without_an_end_time(room: Room) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.filter(pk=room.pk).update(status="ended")


def test_it_refuses_an_unknown_room_status(room: Room) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.filter(pk=room.pk).update(status="paused")


def test_it_refuses_two_events_with_the_same_seq(room: Room) -> None:
    RoomEvent.objects.create(room=room, seq=1, type="x", frame={})
    with pytest.raises(IntegrityError), transaction.atomic():
        RoomEvent.objects.create(room=room, seq=1, type="y", frame={})
