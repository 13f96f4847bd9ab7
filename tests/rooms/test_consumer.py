"""The room websocket, end to end through the real ASGI stack."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from comments.actions import post_comment, remove_comment
from comments.models import BlockedWord, Comment
from liverooms.asgi import application
from rooms import seats
from rooms.hub import hubs
from rooms.models import Room
from tests.sockets import ORIGIN, join

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_viewer_gets_the_rooms_state_first(room: Room, alice, carol) -> None:
    await sync_to_async(post_comment)(room=room, author=carol, text="first!")
    carol_tab = await join(room, carol)
    state = carol_tab.state
    assert state["seq"] == 1
    assert state["room"]["slug"] == room.slug
    assert state["room"]["status"] == "live"
    assert state["room"]["comments_enabled"] is True
    assert [s["index"] for s in state["seats"]] == [0, 1, 2, 3]
    assert state["seats"][0]["user"] == {"id": alice.pk, "username": "alice"}
    assert state["seats"][1] == {"index": 1, "user": None, "camera": True, "mic": True, "publishing": False}
    assert state["you"]["role"] == "viewer"
    assert state["you"]["user"]["username"] == "carol"
    assert state["you"]["seat"] is None
    assert [c["text"] for c in state["comments"]] == ["first!"]
    assert state["viewers"] >= 1
    await carol_tab.close()


async def test_a_comment_reaches_everyone_and_is_acknowledged(room: Room, alice, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    await viewer.send("comment.post", text="  hello <b>room</b>  ", ref="c1")
    created = await host.recv("comment.created")
    assert created["seq"] == 1
    assert created["comment"]["text"] == "hello <b>room</b>"
    assert created["comment"]["user"]["username"] == "carol"
    frames = [await viewer.recv("comment.created", "ack") for _ in range(2)]
    ack = next(f for f in frames if f["type"] == "ack")
    assert ack == {"type": "ack", "ref": "c1", "comment_id": created["comment"]["id"]}
    assert await sync_to_async(Comment.objects.filter(pk=ack["comment_id"], text="hello <b>room</b>").exists)()
    await host.close()
    await viewer.close()


async def test_a_moderators_removal_disappears_live(room: Room, alice, carol, mod) -> None:
    viewer = await join(room, alice)
    comment = await sync_to_async(post_comment)(room=room, author=carol, text="spam")
    assert (await viewer.recv("comment.created"))["comment"]["id"] == comment.pk
    await sync_to_async(remove_comment)(comment=comment, by=mod)
    assert await viewer.recv("comment.removed") == {"type": "comment.removed", "seq": 2, "comment_id": comment.pk}
    await viewer.close()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "bad_request"),
        ("[1, 2]", "bad_request"),
        ('{"type": "dance"}', "bad_request"),
        ('{"type": "comment.post"}', "bad_request"),
        ('{"type": "comment.post", "text": 5}', "bad_request"),
        ('{"type": "seat.set", "index": true, "camera": false}', "bad_request"),
        ('{"type": "seat.set", "camera": "off"}', "bad_request"),
        ('{"type": "comments.set", "enabled": 1}', "bad_request"),
        ('{"type": "reaction.send", "kind": "tomato"}', "bad_request"),
        ('{"type": "comment.post", "text": "' + "x" * 501 + '"}', "too_long"),
        ('{"type": "comment.post", "text": "   "}', "bad_request"),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(room: Room, carol, raw: str, code: str) -> None:
    viewer = await join(room, carol)
    await viewer.send_raw(raw)
    error = await viewer.recv("error")
    assert error["code"] == code
    assert error["message"]
    ack = await viewer.ask("comment.post", text="still here")
    assert ack["type"] == "ack"
    assert ack["comment_id"] == await sync_to_async(lambda: Comment.objects.get(text="still here").pk)()
    assert await sync_to_async(Comment.objects.count)() == 1
    await viewer.close()


async def test_a_bad_frame_echoes_its_ref(room: Room, carol) -> None:
    viewer = await join(room, carol)
    await viewer.send_raw('{"type": "seat.remove", "index": "one", "ref": "x9"}')
    assert (await viewer.recv("error"))["ref"] == "x9"
    await viewer.close()


async def test_an_oversize_frame_is_refused(room: Room, carol) -> None:
    viewer = await join(room, carol)
    await viewer.send_raw(json.dumps({"type": "comment.post", "text": "x" * 70_000}))
    assert (await viewer.recv("error"))["code"] == "too_long"
    assert await sync_to_async(Comment.objects.count)() == 0
    await viewer.close()


async def test_a_foreign_origin_is_refused_at_the_handshake(room: Room, carol) -> None:
    communicator = WebsocketCommunicator(
        application, f"/ws/rooms/{room.slug}/", headers=[(b"origin", b"http://evil.example.com")]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert not connected


async def test_an_unknown_room_says_not_found(db) -> None:
    communicator = WebsocketCommunicator(application, "/ws/rooms/nosuchroom/", headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert json.loads(await communicator.receive_from())["code"] == "not_found"
    assert (await communicator.receive_output())["type"] == "websocket.close"


async def test_a_viewer_joins_the_stage_by_request_and_invite(room: Room, alice, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    assert (await viewer.ask("seat.request"))["type"] == "ack"
    requested = await host.recv("seat.requested")
    assert requested == {"type": "seat.requested", "user": {"id": carol.pk, "username": "carol"}}
    assert (await host.ask("seat.invite", username="carol"))["type"] == "ack"
    offered = await viewer.recv("seat.offered")
    assert offered["index"] == 1
    assert (await viewer.ask("seat.accept"))["type"] == "ack"
    for peer in (host, viewer):
        seat = (await peer.recv("seat.updated"))["seat"]
        assert seat == {
            "index": 1,
            "user": {"id": carol.pk, "username": "carol"},
            "camera": True,
            "mic": True,
            "publishing": False,
        }
    # a new tab shows carol as a guest on seat 1
    again = await join(room, carol)
    assert again.state["you"]["role"] == "guest"
    assert again.state["you"]["seat"] == 1
    for peer in (host, viewer, again):
        await peer.close()


async def test_an_invite_can_be_declined(room: Room, alice, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    await host.ask("seat.invite", username="carol")
    await viewer.recv("seat.offered")
    assert (await viewer.ask("seat.decline"))["type"] == "ack"
    assert (await host.recv("seat.declined"))["user"]["username"] == "carol"
    assert (await viewer.ask("seat.accept"))["code"] == "not_found"
    await host.close()
    await viewer.close()


async def test_the_stage_holds_four(room: Room, alice, bob, carol, mod, django_user_model) -> None:
    dave = await sync_to_async(django_user_model.objects.create_user)("dave", password="x-long-password")
    for index, guest in enumerate((bob, carol, mod), start=1):
        await sync_to_async(seats.seat_user)(room=room, user=guest, index=index)
    host, viewer = await join(room, alice), await join(room, dave)
    assert (await viewer.ask("seat.request"))["code"] == "room_full"
    assert (await host.ask("seat.invite", username="dave"))["code"] == "room_full"
    await host.close()
    await viewer.close()


async def test_camera_and_mic_follow_their_owner(room: Room, alice, bob, carol) -> None:
    await sync_to_async(seats.seat_user)(room=room, user=bob, index=2)
    host, guest, viewer = await join(room, alice), await join(room, bob), await join(room, carol)
    assert (await guest.ask("seat.set", camera=False))["type"] == "ack"
    update = await viewer.recv("seat.updated")
    assert update["seat"]["index"] == 2
    assert (update["seat"]["camera"], update["seat"]["mic"]) == (False, True)
    # the host may turn a guest's mic off, not their camera back on
    assert (await host.ask("seat.set", index=2, mic=False))["type"] == "ack"
    assert (await viewer.recv("seat.updated"))["seat"]["mic"] is False
    assert (await host.ask("seat.set", index=2, camera=True))["code"] == "forbidden"
    # a viewer may not touch any seat
    assert (await viewer.ask("seat.set", index=2, camera=False))["code"] == "forbidden"
    assert (await viewer.ask("seat.set", camera=False))["code"] == "forbidden"
    # the guest turns both back on
    assert (await guest.ask("seat.set", camera=True, mic=True))["type"] == "ack"
    seat = (await viewer.recv("seat.updated"))["seat"]
    assert (seat["camera"], seat["mic"]) == (True, True)
    await viewer.nothing_more()
    for peer in (host, guest, viewer):
        await peer.close()


async def test_a_guest_leaves_and_the_host_removes(room: Room, alice, bob, carol) -> None:
    await sync_to_async(seats.seat_user)(room=room, user=bob, index=1)
    await sync_to_async(seats.seat_user)(room=room, user=carol, index=3)
    host, guest = await join(room, alice), await join(room, bob)
    assert (await guest.ask("seat.leave"))["type"] == "ack"
    assert (await host.recv("seat.updated"))["seat"] == {
        "index": 1,
        "user": None,
        "camera": True,
        "mic": True,
        "publishing": False,
    }
    assert (await host.ask("seat.remove", index=3))["type"] == "ack"
    assert (await guest.recv("seat.updated"))["seat"]["user"] is None
    assert (await host.ask("seat.remove", index=3))["code"] == "not_found"
    assert (await host.ask("seat.leave"))["code"] == "forbidden"
    await host.close()
    await guest.close()


async def test_the_host_turns_comments_off_and_on(room: Room, alice, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    assert (await host.ask("comments.set", enabled=False))["type"] == "ack"
    updated = await viewer.recv("room.updated")
    assert updated["room"]["comments_enabled"] is False
    assert (await viewer.ask("comment.post", text="hello?"))["code"] == "comments_off"
    await host.ask("comments.set", enabled=True)
    assert (await viewer.recv("room.updated"))["room"]["comments_enabled"] is True
    assert (await viewer.ask("comment.post", text="hello!"))["type"] == "ack"
    await host.close()
    await viewer.close()


async def test_a_blocked_word_or_a_ban_keeps_a_comment_out(room: Room, carol, mod) -> None:
    from comments.models import Ban

    await sync_to_async(BlockedWord.objects.create)(word="Spoiler", room=room)
    viewer = await join(room, carol)
    assert (await viewer.ask("comment.post", text="big SPOILER ahead"))["code"] == "forbidden"
    assert (await viewer.ask("comment.post", text="no spoilers here"))["type"] == "ack"  # whole words only
    await sync_to_async(Ban.objects.create)(user=carol, room=None, created_by=mod)
    assert (await viewer.ask("comment.post", text="hi"))["code"] == "banned"
    await viewer.close()


async def test_fast_commenters_are_slowed_down_but_the_host_is_not(room: Room, alice, carol, settings) -> None:
    settings.COMMENT_BURST = 3
    viewer, host = await join(room, carol), await join(room, alice)
    answers = [(await viewer.ask("comment.post", text=f"c{n}"))["type"] for n in range(5)]
    assert answers == ["ack", "ack", "ack", "error", "error"]
    assert (await viewer.ask("comment.post", text="again"))["code"] == "rate_limited"
    assert all([(await host.ask("comment.post", text=f"h{n}"))["type"] == "ack" for n in range(5)])
    await viewer.close()
    await host.close()


async def test_the_host_ends_the_live_and_sockets_stay_open(room: Room, alice, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    assert (await viewer.ask("room.end"))["code"] == "forbidden"
    assert (await host.ask("room.end"))["type"] == "ack"
    ended = await viewer.recv("room.ended")
    assert ended["room"]["status"] == "ended"
    assert (await viewer.ask("comment.post", text="hello?"))["code"] == "room_ended"
    assert (await viewer.ask("reaction.send", kind="heart"))["code"] == "room_ended"
    assert (await host.ask("seat.set", camera=False))["code"] == "room_ended"
    await host.close()
    await viewer.close()


async def test_reactions_are_coalesced_into_one_frame(room: Room, carol) -> None:
    first, second = await join(room, carol), await join(room)
    for _ in range(3):
        await first.send("reaction.send", kind="heart")
    await second.send("reaction.send", kind="fire")
    frame = await second.recv("reactions")
    counts = dict(frame["counts"])
    while sum(counts.values()) < 4:
        more = await second.recv("reactions")
        for kind, n in more["counts"].items():
            counts[kind] = counts.get(kind, 0) + n
    assert counts == {"heart": 3, "fire": 1}
    fresh = await join(room)
    assert fresh.state["reactions"]["heart"] == 3
    for peer in (first, second, fresh):
        await peer.close()


async def test_viewers_are_counted_live(room: Room, carol) -> None:
    first = await join(room, carol)
    second = await join(room)
    count = 0
    while count != 2:
        count = (await first.recv("viewers"))["count"]
    await second.close()
    while count != 1:
        count = (await first.recv("viewers"))["count"]
    await first.close()


async def test_an_admin_end_reaches_the_socket(room: Room, carol) -> None:
    from rooms.actions import end_room

    viewer = await join(room, carol)
    await sync_to_async(end_room)(room=room)
    assert (await viewer.recv("room.ended"))["seq"] == 1
    await viewer.close()


@override_settings(COMMENT_HOST_BURST=1000, STAGE_ACTION_BURST=1000)  # the host posts as fast as it can
async def test_events_between_subscribe_and_snapshot_are_not_lost(room: Room, alice) -> None:
    """Many comments posted while sockets join: each socket sees every comment exactly once."""

    async def post_many() -> None:
        for n in range(30):
            await sync_to_async(post_comment)(room=room, author=alice, text=f"n{n}")

    poster = asyncio.create_task(post_many())
    tabs = []
    for _ in range(6):
        tabs.append(await join(room))
        await asyncio.sleep(0.01)
    await poster
    for tab in tabs:
        seen = [c["text"] for c in tab.state["comments"]]
        while len(seen) < 30:
            seen.append((await tab.recv("comment.created"))["comment"]["text"])
        assert seen == [f"n{n}" for n in range(30)]
        await tab.nothing_more(0.2)
        await tab.close()


async def test_nothing_overtakes_the_snapshot_while_hearts_fly(room: Room, carol, monkeypatch) -> None:
    """A socket joining a busy room gets `room.state` first: no viewer count and no hearts before
    it, even when reading the snapshot takes a while (a slow database)."""
    from rooms import consumers

    read_state = consumers._state

    async def slow_state(*args, **kwargs):  # type: ignore[no-untyped-def]
        state = await read_state(*args, **kwargs)
        await asyncio.sleep(0.6)  # several hub ticks (200 ms) and a viewer count (1 s) pass
        return state

    spammer = await join(room, carol)
    monkeypatch.setattr(consumers, "_state", slow_state)
    stop = asyncio.Event()

    async def hearts() -> None:
        while not stop.is_set():
            await spammer.send("reaction.send", kind="heart")
            await asyncio.sleep(0.02)

    sender = asyncio.create_task(hearts())
    try:
        tabs = [await join(room) for _ in range(3)]  # join() asserts the first frame is room.state
    finally:
        stop.set()
        await sender
    assert (await tabs[0].recv("reactions"))["counts"]["heart"] >= 1  # the hearts did reach them, after
    for tab in [spammer, *tabs]:
        await tab.close()


def test_a_crowd_gets_hearts_less_often() -> None:
    from rooms.hub import reaction_ticks

    assert [reaction_ticks(n) for n in (1, 500, 501, 1000, 2000, 5000)] == [1, 1, 2, 2, 3, 5]


async def test_a_socket_whose_consumer_fails_leaves_its_hub(room: Room, alice, carol) -> None:
    host = await join(room, alice)
    viewer = await join(room, carol)
    hub = hubs().get(room.pk)
    assert hub is not None
    assert len(hub.sockets) == 2
    # A message the consumer has no handler for ends it with an error, without a disconnect.
    await viewer.communicator.send_input({"type": "websocket.nonsense"})
    with pytest.raises(ValueError, match="No handler"):
        await viewer.communicator.receive_from(timeout=3)
    assert len(hub.sockets) == 1  # no longer counted as a viewer nor written to
    await host.close()
    assert hubs().get(room.pk) is None


async def test_an_action_that_fails_unexpectedly_answers_internal_and_the_socket_stays(
    room: Room, alice, carol, caplog
) -> None:
    viewer = await join(room, carol)
    # The room vanishes under the viewer: its next action fails with an error nobody expected.
    await sync_to_async(Room.objects.filter(pk=room.pk).delete)()
    answer = await viewer.ask("comment.post", text="hello?")
    assert (answer["type"], answer["code"]) == ("error", "internal")
    assert "comment.post failed" in caplog.text  # logged with its traceback
    assert (await viewer.ask("no.such.frame"))["code"] == "bad_request"  # still open, still answering
    await viewer.close()
