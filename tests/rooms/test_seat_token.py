"""A seat's publish token reaches its new holder with the seat (`seat.token`), and nobody else."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async as sync_to_async

from rooms import seats
from rooms.models import Room, Seat
from tests.sockets import join

pytestmark = pytest.mark.django_db(transaction=True)


def token_of(room: Room, index: int) -> str | None:
    return Seat.objects.get(room=room, index=index).publish_token


async def test_it_sends_the_token_to_a_guest_who_accepts(room: Room, alice, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    await host.ask("seat.invite", username="carol")
    await viewer.recv("seat.offered")
    assert (await viewer.ask("seat.accept"))["type"] == "ack"
    assert (await viewer.recv("seat.updated"))["seat"]["index"] == 1
    token = await viewer.recv("seat.token")  # after the seat.updated that seats carol
    assert token == {
        "type": "seat.token",
        "index": 1,
        "whip": {"url": f"/rooms/{room.slug}/whip", "token": await sync_to_async(token_of)(room, 1)},
    }
    assert "seq" not in token
    # the host sees the seat, never its token
    await host.recv("seat.updated")
    assert (await host.ask("seat.set", index=1, mic=False))["type"] == "ack"
    mic = await host.recv("seat.updated")  # the mic (before the ack or after it); a seat.token would fail here
    assert (mic["seat"]["index"], mic["seat"]["mic"]) == (1, False)
    await host.nothing_more()
    await host.close()
    await viewer.close()


async def test_it_sends_a_new_token_each_time_the_seat_is_taken(room: Room, alice, carol) -> None:
    viewer = await join(room, carol)
    await sync_to_async(seats.seat_user)(room=room, user=carol, index=2)
    first = await viewer.recv("seat.token", "seat.updated")
    if first["type"] == "seat.updated":
        first = await viewer.recv("seat.token")
    assert first["index"] == 2
    await sync_to_async(seats.leave)(room=room, user=carol)
    await viewer.recv("seat.updated")
    await sync_to_async(seats.seat_user)(room=room, user=carol, index=2)
    await viewer.recv("seat.updated")
    again = await viewer.recv("seat.token")
    assert again["whip"]["token"] != first["whip"]["token"]
    assert again["whip"]["token"] == await sync_to_async(token_of)(room, 2)
    await viewer.close()


async def test_it_sends_the_rotated_token_to_the_holders_other_tabs(room: Room, alice, carol) -> None:
    tab, other_tab, viewer = await join(room, alice), await join(room, alice), await join(room, carol)
    old = tab.state["you"]["whip"]["token"]
    seat, _old = await sync_to_async(seats.rotate_publish_token)(room=room, user=alice)
    for peer in (tab, other_tab):
        frame = await peer.recv("seat.token")
        assert frame["index"] == 0
        assert frame["whip"]["token"] == seat.publish_token != old
    assert (await viewer.ask("reaction.send", kind="heart"))["type"] == "ack"
    assert [frame["type"] for frame in viewer._held] == []  # nothing for anyone else
    for peer in (tab, other_tab, viewer):
        await peer.close()
