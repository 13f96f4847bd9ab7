"""Held for review: a comment with a *hold* word reaches only its author and the reviewers until
approved; a rejected one never reaches anybody else — not a viewer, a resumed socket, a fresh
`room.state` or a webhook."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.test import Client

from comments.models import BlockedWord, Comment
from liverooms.webhooks.models import Endpoint, Event
from rooms.models import Room, RoomEvent
from tests.sockets import join, until

pytestmark = pytest.mark.django_db(transaction=True)
HELD = "buy crypto now at my link"


def hold_word() -> None:
    BlockedWord.objects.create(word="crypto", action=BlockedWord.Action.HOLD)
    Endpoint.objects.create(url="http://127.0.0.1:9/hook", event_types=["comment.created", "comment.held"])


async def test_a_held_comment_is_seen_by_its_author_and_the_host_only_until_approved(
    room: Room, alice, bob, carol
) -> None:
    await sync_to_async(hold_word)()
    host, author, other = await join(room, alice), await join(room, carol), await join(room, bob)
    answer = await author.ask("comment.post", text=HELD)
    assert (answer["type"], answer["held"]) == ("ack", True)
    for tab in (author, host):
        assert (await until(tab, "comment.held"))["comment"]["text"] == HELD
    await other.nothing_more()
    assert [c["text"] for c in (await join(room, alice)).state["held"]] == [HELD]
    assert [c["text"] for c in (await join(room, carol)).state["you"]["held"]] == [HELD]
    fresh = await join(room, bob)
    assert "held" not in fresh.state
    assert HELD not in json.dumps(fresh.state)
    assert not await RoomEvent.objects.filter(room=room).aexists()

    assert (await host.ask("held.approve", comment_id=answer["comment_id"]))["type"] == "ack"
    created = await until(other, "comment.created")
    assert (created["comment"]["text"], created["seq"]) == (HELD, 1)
    assert HELD in json.dumps((await join(room, bob)).state["comments"])
    for tab in (host, author, other, fresh):
        await tab.close()


async def test_a_rejected_comment_never_reaches_anybody_else(room: Room, alice, bob, carol) -> None:
    await sync_to_async(hold_word)()
    host, author, other = await join(room, alice), await join(room, carol), await join(room, bob)
    comment_id = (await author.ask("comment.post", text=HELD))["comment_id"]
    assert (await host.ask("held.reject", comment_id=comment_id))["type"] == "ack"
    assert (await until(author, "comment.rejected"))["comment_id"] == comment_id
    await other.nothing_more()
    replay = await join(room, None, after=0)
    await replay.nothing_more()
    assert HELD not in json.dumps((await join(room, bob)).state)
    assert not await RoomEvent.objects.filter(room=room).aexists()
    # the webhook of comment.held went to the operator; no comment.created ever did
    assert [e.type async for e in Event.objects.all()] == ["comment.held"]
    assert (await host.ask("held.approve", comment_id=comment_id))["code"] == "not_found"
    assert (await other.ask("held.reject", comment_id=comment_id))["code"] == "forbidden"
    for tab in (host, author, other, replay):
        await tab.close()


async def test_refuse_words_still_refuse(room: Room, carol) -> None:
    await BlockedWord.objects.acreate(word="crypto", action=BlockedWord.Action.HOLD)
    await BlockedWord.objects.acreate(word="scam")
    tab = await join(room, carol)
    assert (await tab.ask("comment.post", text="crypto scam"))["code"] == "forbidden"
    assert not await Comment.objects.aexists()
    await tab.close()


@pytest.mark.django_db
def test_the_admin_approves_held_comments(room: Room, carol, mod) -> None:
    from comments.actions import post_comment

    hold_word()
    comment = post_comment(room=room, author=carol, text=HELD)
    client = Client()
    client.force_login(mod)
    listing = client.get("/admin/comments/comment/?review__exact=held").content.decode()
    assert HELD in listing
    client.post("/admin/comments/comment/", {"action": "approve_selected", "_selected_action": [comment.pk]})
    comment.refresh_from_db()
    assert comment.review == Comment.Review.APPROVED
    assert RoomEvent.objects.get(room=room).frame["comment"]["text"] == HELD
