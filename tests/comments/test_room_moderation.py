"""Moderating a busy live from the room: the host names moderators, who remove comments and time
viewers out; slow mode. Refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.contrib.auth.models import User
from django.utils import timezone

from comments.models import Ban, Comment
from rooms.models import Room
from rooms.seats import seat_user
from tests.sockets import Peer, join, until

pytestmark = pytest.mark.django_db(transaction=True)


async def name_moderator(host: Peer, username: str) -> None:
    assert (await host.ask("moderator.set", username=username, on=True))["type"] == "ack"


async def test_the_host_names_a_moderator_who_removes_a_comment_from_the_room(room: Room, alice, bob, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    await name_moderator(host, "bob")
    updated = await until(viewer, "room.updated")
    assert updated["room"]["moderators"] == [{"id": bob.pk, "username": "bob"}]
    moderator = await join(room, bob)
    assert moderator.state["you"]["role"] == "moderator"
    assert moderator.state["room"]["moderators"] == [{"id": bob.pk, "username": "bob"}]

    comment_id = (await viewer.ask("comment.post", text="spam spam"))["comment_id"]
    assert (await moderator.ask("comment.remove", comment_id=comment_id))["type"] == "ack"
    assert (await until(viewer, "comment.removed"))["comment_id"] == comment_id
    removed = await sync_to_async(Comment.objects.get)(pk=comment_id)
    assert removed.removed_by_id == bob.pk

    # the host's own comment is out of a moderator's reach
    host_comment = (await host.ask("comment.post", text="welcome"))["comment_id"]
    assert (await moderator.ask("comment.remove", comment_id=host_comment))["code"] == "forbidden"
    # un-named: no longer a moderator
    assert (await host.ask("moderator.set", username="bob", on=False))["type"] == "ack"
    assert (await moderator.ask("comment.remove", comment_id=host_comment))["code"] == "forbidden"
    for tab in (host, viewer, moderator):
        await tab.close()


async def test_a_room_has_at_most_five_moderators(room: Room, alice) -> None:
    host = await join(room, alice)
    for n in range(6):
        await sync_to_async(User.objects.create_user)(f"helper{n}", password="x" * 20)
    answers = [await host.ask("moderator.set", username=f"helper{n}", on=True) for n in range(6)]
    assert [a["type"] for a in answers] == ["ack"] * 5 + ["error"]
    assert answers[-1]["code"] == "forbidden"
    await host.close()


async def test_a_timeout_stops_comments_until_it_ends_and_can_be_lifted(room: Room, alice, bob, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    await name_moderator(host, "bob")
    moderator = await join(room, bob)
    timed = await moderator.ask("user.timeout", username="carol", seconds=600)
    assert timed["type"] == "ack"
    told = await until(viewer, "user.timed_out")
    assert told["until"] == timed["until"]
    refused = await viewer.ask("comment.post", text="let me speak")
    assert (refused["code"], refused["until"]) == ("banned", timed["until"])
    assert (await join(room, carol)).state["you"]["banned_until"] == timed["until"]

    assert (await moderator.ask("user.timeout", username="carol", seconds=0))["type"] == "ack"
    assert (await viewer.ask("comment.post", text="thanks"))["type"] == "ack"
    # one that ended lets them comment without anybody lifting it
    assert (await moderator.ask("user.timeout", username="carol", seconds=10))["type"] == "ack"
    await Ban.objects.filter(user=carol).aupdate(until=timezone.now() - timedelta(seconds=1))
    assert (await viewer.ask("comment.post", text="back"))["type"] == "ack"
    for tab in (host, viewer, moderator):
        await tab.close()


@pytest.mark.parametrize(("seconds", "code"), [(9, "bad_request"), (86_401, "bad_request"), (-5, "bad_request")])
async def test_a_timeout_lasts_ten_seconds_to_a_day(room: Room, alice, carol, seconds: int, code: str) -> None:
    host = await join(room, alice)
    assert (await host.ask("user.timeout", username="carol", seconds=seconds))["code"] == code
    assert not await Ban.objects.filter(user=carol).aexists()
    await host.close()


async def test_nobody_times_out_the_host_and_moderators_spare_each_other(room: Room, alice, bob, carol, mod) -> None:
    host = await join(room, alice)
    await name_moderator(host, "bob")
    await name_moderator(host, "carol")
    bob_tab = await join(room, bob)
    assert (await bob_tab.ask("user.timeout", username="alice", seconds=60))["code"] == "forbidden"
    assert (await bob_tab.ask("user.timeout", username="carol", seconds=60))["code"] == "forbidden"
    site = await join(room, mod)
    assert (await site.ask("user.timeout", username="alice", seconds=60))["code"] == "forbidden"
    assert (await host.ask("user.timeout", username="carol", seconds=60))["type"] == "ack"  # the host may
    for tab in (host, bob_tab, site):
        await tab.close()


async def test_slow_mode_makes_viewers_wait_but_not_the_host(room: Room, alice, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    assert (await host.ask("comments.set", slow_mode=30))["type"] == "ack"
    assert (await until(viewer, "room.updated"))["room"] == {"slow_mode": 30}
    assert (await viewer.ask("comment.post", text="one"))["type"] == "ack"
    second = await viewer.ask("comment.post", text="two")
    assert second["code"] == "rate_limited"
    assert 25 <= second["retry_after"] <= 30
    assert (await host.ask("comment.post", text="host talks"))["type"] == "ack"
    assert (await host.ask("comment.post", text="and again"))["type"] == "ack"
    assert (await host.ask("comments.set", slow_mode=601))["code"] == "bad_request"
    assert (await host.ask("comments.set"))["code"] == "bad_request"
    assert (await join(room, carol)).state["room"]["slow_mode"] == 30
    for tab in (host, viewer):
        await tab.close()


@pytest.mark.parametrize("who", [None, "carol", "bob"])  # anonymous, a viewer, a guest
@pytest.mark.parametrize(
    ("frame", "fields"),
    [
        ("moderator.set", {"username": "carol", "on": True}),
        ("comment.remove", {"comment_id": 0}),
        ("user.timeout", {"username": "dave", "seconds": 60}),
        ("comments.set", {"slow_mode": 10}),
    ],
)
async def test_only_the_host_and_moderators_moderate(room: Room, alice, bob, carol, who, frame, fields) -> None:
    await sync_to_async(seat_user)(room=room, user=bob, index=1)
    dave = await sync_to_async(User.objects.create_user)("dave", password="x" * 20)
    comment = await sync_to_async(Comment.objects.create)(room=room, author=dave, text="hi")
    real = {k: (comment.pk if k == "comment_id" else v) for k, v in fields.items()}
    tab = await join(room, {"carol": carol, "bob": bob}.get(who))
    before = (await Room.objects.aget(pk=room.pk)).last_seq
    answer = await tab.ask(frame, **real)
    assert answer["code"] == ("unauthenticated" if who is None else "forbidden")
    assert (await Room.objects.aget(pk=room.pk)).last_seq == before
    assert not await Ban.objects.aexists()
    await tab.close()
