"""Floods from one client are refused early with a clear answer (`rate_limited` + `retry_after`),
while a normal viewer in the same room keeps getting every event."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings

from comments.actions import post_comment
from liverooms.asgi import application
from rooms.hub import hubs
from rooms.models import Room
from rooms.seats import seat_user
from tests.sockets import ORIGIN, Peer, join, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)
FLOODER = "203.0.113.66"


async def connect_from(room: Room, address: str, user=None) -> WebsocketCommunicator:  # type: ignore[no-untyped-def]
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", f"sessionid={await sync_to_async(session_cookie)(user)}".encode()))
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{room.slug}/", headers=headers)
    communicator.scope["client"] = (address, 40000)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def refused(communicator: WebsocketCommunicator) -> dict:
    frame = json.loads(await communicator.receive_from(timeout=3))
    assert (await communicator.receive_output(timeout=3)) == {"type": "websocket.close", "code": 4429}
    return frame


async def test_one_address_cannot_take_every_socket_of_a_room(room: Room, alice) -> None:
    viewer = await join(room, None)  # another address ("unknown": the test client's)
    held = [await connect_from(room, FLOODER) for _ in range(20)]
    for communicator in held:
        assert json.loads(await communicator.receive_from(timeout=3))["type"] == "room.state"

    extra = await connect_from(room, FLOODER)
    answer = await refused(extra)
    assert (answer["type"], answer["code"]) == ("error", "rate_limited")
    assert answer["retry_after"] >= 1
    assert len(hubs().get(room.pk).sockets) == 21  # the refused one is not held

    await sync_to_async(post_comment)(room=room, author=alice, text="still flowing")
    assert (await viewer.recv("comment.created"))["comment"]["text"] == "still flowing"
    for communicator in held:
        await communicator.disconnect()
    await viewer.close()


async def viewers_seen(tab: Peer, count: int) -> None:
    while (await tab.recv("viewers", wait=5))["count"] != count:
        pass


async def test_viewers_counts_people_not_sockets_nor_the_stage(room: Room, alice, bob, carol) -> None:
    await sync_to_async(seat_user)(room=room, user=bob, index=1)
    host, guest = await join(room, alice), await join(room, bob)
    carol_tabs = [await join(room, carol) for _ in range(3)]
    scripted = [await connect_from(room, FLOODER) for _ in range(10)]

    # carol once (three tabs), three of the ten anonymous sockets of one address; not alice nor bob
    await viewers_seen(host, 4)
    for communicator in scripted:
        await communicator.disconnect()
    await viewers_seen(host, 1)
    for tab in (host, guest, *carol_tabs):
        await tab.close()


@override_settings(STAGE_ACTIONS_PER_MINUTE=1)  # the burst alone: nothing refills during the test
async def test_a_host_toggling_a_seat_without_end_is_slowed_down(room: Room, alice, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    answers = [await host.ask("seat.set", mic=n % 2 == 1) for n in range(60)]  # off, on, off…
    acked = [a for a in answers if a["type"] == "ack"]
    limited = [a for a in answers if a.get("code") == "rate_limited"]
    assert len(acked) == 30  # STAGE_ACTION_BURST
    assert limited
    assert all(a["retry_after"] >= 1 for a in limited)
    # the viewer got exactly the changes that were acked, in order
    mic, changes = True, []
    for n, answer in enumerate(answers):
        if answer["type"] == "ack" and (n % 2 == 1) != mic:
            mic = n % 2 == 1
            changes.append(mic)
    updates = [await viewer.recv("seat.updated") for _ in changes]
    assert [u["seat"]["mic"] for u in updates] == changes
    await viewer.nothing_more()
    for tab in (host, viewer):
        await tab.close()


@override_settings(COMMENT_HOST_RATE_PER_MINUTE=1)  # the burst alone: nothing refills during the test
async def test_the_host_has_a_comment_limit_too(room: Room, alice, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    answers = [await host.ask("comment.post", text=f"hi {n}") for n in range(30)]
    assert sum(a["type"] == "ack" for a in answers) == 20  # COMMENT_HOST_BURST
    assert answers[-1]["code"] == "rate_limited"
    assert answers[-1]["retry_after"] >= 1
    for tab in (host, viewer):
        await tab.close()


@override_settings(ACTION_BURST=1000, STAGE_ACTION_BURST=1000)
async def test_a_socket_sending_garbage_is_slowed_down_and_stays_open(room: Room, carol) -> None:
    tab = await join(room, carol)
    for n in range(60):
        await tab.send_raw(json.dumps({"type": "nonsense", "ref": f"g{n}"}))
    answers = [await tab.recv("error") for _ in range(60)]
    assert [a["code"] for a in answers[:40]] == ["bad_request"] * 40  # SOCKET_FRAME_BURST
    assert answers[-1]["code"] == "rate_limited"
    assert answers[-1]["ref"] == "g59"
    await asyncio.sleep(0.2)  # 20 frames a second come back
    assert (await tab.ask("nonsense"))["code"] == "bad_request"
    await tab.close()


@override_settings(ACTIONS_PER_MINUTE=1)  # the burst alone: nothing refills during the test
async def test_a_users_actions_are_limited_across_their_sockets(room: Room, carol) -> None:
    phone, laptop = await join(room, carol), await join(room, carol)
    first = [await phone.ask("seat.request") for _ in range(10)]  # ACTION_BURST
    assert all(a["type"] == "ack" for a in first)
    assert (await laptop.ask("seat.request"))["code"] == "rate_limited"
    for tab in (phone, laptop):
        await tab.close()


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="row locks are PostgreSQL's; SQLite has a single writer and one process",
)
async def test_joining_does_not_wait_for_the_rooms_write_lock(room: Room, carol) -> None:
    """A flood of joins must not queue commenters behind it, nor wait behind them."""
    import threading

    from django.db import connection, transaction

    locked, release = threading.Event(), threading.Event()

    def hold_the_room() -> None:
        with transaction.atomic():
            Room.objects.select_for_update().get(pk=room.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_room)
    holder.start()
    try:
        assert await asyncio.to_thread(locked.wait, 5)
        tab = await asyncio.wait_for(join(room, carol), 2)  # the snapshot comes while the lock is held
        assert tab.state["type"] == "room.state"
    finally:
        release.set()
        await asyncio.to_thread(holder.join)
    await tab.close()
