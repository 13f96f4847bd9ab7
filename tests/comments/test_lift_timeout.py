"""Lifting a timeout from the room (`user.timeout` with `seconds: 0`): it ends a timeout whoever
gave it, and never lifts a ban for good, nor tells anybody it did."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async as sync_to_async

from comments.models import Ban
from rooms.models import Room
from tests.sockets import join

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_moderator_lifts_a_timeout_the_host_gave(room: Room, alice, bob, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    assert (await host.ask("moderator.set", username="bob", on=True))["type"] == "ack"
    assert (await viewer.recv("room.updated"))["room"]["moderators"][0]["username"] == "bob"
    moderator = await join(room, bob)
    assert (await host.ask("user.timeout", username="carol", seconds=3600))["type"] == "ack"
    assert (await viewer.recv("user.timed_out"))["until"] is not None
    assert (await viewer.ask("comment.post", text="let me speak"))["code"] == "banned"

    lifted = await moderator.ask("user.timeout", username="carol", seconds=0)
    assert (lifted["type"], lifted["until"]) == ("ack", None)
    assert (await viewer.recv("user.timed_out"))["until"] is None
    assert (await viewer.ask("comment.post", text="thanks"))["type"] == "ack"
    assert "banned_until" not in (await join(room, carol)).state["you"]
    assert not await Ban.objects.filter(user=carol, room=room).aexists()
    for tab in (host, viewer, moderator):
        await tab.close()


async def test_lifting_never_lifts_a_ban_for_good(room: Room, alice, carol, mod) -> None:
    await sync_to_async(Ban.objects.create)(user=carol, room=room, created_by=mod, reason="spam")
    host, viewer = await join(room, alice), await join(room, carol)
    assert viewer.state["you"]["banned_until"] is None  # banned for good
    assert (await host.ask("user.timeout", username="carol", seconds=0))["type"] == "ack"
    await viewer.nothing_more()  # no `user.timed_out` {until: null}: their page keeps saying banned
    assert (await viewer.ask("comment.post", text="am I back?"))["code"] == "banned"
    assert await Ban.objects.filter(user=carol, room=room, until__isnull=True).aexists()
    for tab in (host, viewer):
        await tab.close()


async def test_lifting_nothing_changes_nothing(room: Room, alice, carol) -> None:
    host, viewer = await join(room, alice), await join(room, carol)
    assert (await host.ask("user.timeout", username="carol", seconds=0))["type"] == "ack"
    await viewer.nothing_more()
    assert (await viewer.ask("comment.post", text="hello"))["type"] == "ack"
    for tab in (host, viewer):
        await tab.close()
