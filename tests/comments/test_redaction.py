"""A removed comment is gone for good: no resume, replay, snapshot or webhook carries its text or
author again, however the attacker asks (a fresh socket from `?after=0`, an ended room, a bulk ban,
a retried delivery)."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.contrib.auth.models import User

from comments import bulk
from comments.actions import post_comment, remove_comment, restore_comment
from comments.models import Comment
from liverooms.webhooks import delivery
from liverooms.webhooks.models import Delivery, Endpoint
from rooms import actions
from rooms.models import Room, RoomEvent
from tests.sockets import join

SECRET = "my phone number is 555-0199"


def post_and_remove(room: Room, author: User, mod: User) -> Comment:
    comment = post_comment(room=room, author=author, text=SECRET)
    post_comment(room=room, author=author, text="harmless")
    remove_comment(comment=comment, by=mod)
    return comment


async def replayed_from_zero(room: Room, count: int) -> list[dict]:
    """Every frame an anonymous socket gets resuming from `?after=0`, as raw JSON objects."""
    tab = await join(room, None, after=0)
    frames = [await tab.recv() for _ in range(count)]
    await tab.nothing_more()
    await tab.close()
    return frames


@pytest.mark.django_db(transaction=True)
async def test_a_fresh_socket_replaying_from_zero_never_reads_a_removed_comment(room: Room, carol, mod) -> None:
    comment = await sync_to_async(post_and_remove)(room, carol, mod)

    frames = await replayed_from_zero(room, 3)

    assert [f["type"] for f in frames] == ["comment.created", "comment.created", "comment.removed"]
    assert frames[0] == {"type": "comment.created", "seq": 1, "comment": {"id": comment.pk, "removed": True}}
    assert frames[1]["comment"]["text"] == "harmless"
    assert frames[2] == {"type": "comment.removed", "seq": 3, "comment_id": comment.pk}
    assert SECRET not in json.dumps(frames)


@pytest.mark.django_db(transaction=True)
async def test_an_ended_room_keeps_removed_comments_redacted(room: Room, alice, carol, mod) -> None:
    await sync_to_async(post_and_remove)(room, carol, mod)
    await sync_to_async(actions.end_room_as_host)(room=room, user=alice)

    frames = await replayed_from_zero(room, 4)

    assert frames[-1]["type"] == "room.ended"
    assert SECRET not in json.dumps(frames)
    assert "carol" not in json.dumps(frames[0])


@pytest.mark.django_db(transaction=True)
async def test_a_bulk_ban_redacts_every_comment_it_removes(room: Room, carol, mod) -> None:
    def post_three() -> None:
        for n in range(3):
            post_comment(room=room, author=carol, text=f"{SECRET} #{n}")

    await sync_to_async(post_three)()
    job = await sync_to_async(bulk.open_ban_job)(target=carol, room=room, by=mod)
    await sync_to_async(bulk.run_job)(job_id=job.pk)

    frames = await replayed_from_zero(room, 6)
    assert [f["type"] for f in frames] == ["comment.created"] * 3 + ["comment.removed"] * 3
    assert all(f["comment"].get("removed") for f in frames[:3])
    assert SECRET not in json.dumps(frames)


@pytest.mark.django_db(transaction=True)
async def test_a_restored_comment_comes_back_once_and_its_old_copy_stays_redacted(room: Room, carol, mod) -> None:
    comment = await sync_to_async(post_and_remove)(room, carol, mod)
    await sync_to_async(restore_comment)(comment=comment)

    frames = await replayed_from_zero(room, 4)

    assert frames[0]["comment"] == {"id": comment.pk, "removed": True}
    assert (frames[3]["type"], frames[3]["comment"]["text"]) == ("comment.created", SECRET)
    # removed again: both copies redacted
    await sync_to_async(remove_comment)(comment=comment, by=mod)
    frames = await replayed_from_zero(room, 5)
    assert SECRET not in json.dumps(frames)


@pytest.mark.django_db
def test_the_stored_stream_holds_no_removed_text(room: Room, carol, mod) -> None:
    post_and_remove(room, carol, mod)
    assert SECRET not in json.dumps(list(RoomEvent.objects.values_list("frame", flat=True)))


@pytest.mark.django_db
def test_a_delivery_retried_after_the_removal_carries_no_text(room: Room, carol, mod) -> None:
    hook = Endpoint.objects.create(url="http://127.0.0.1:9/hook", event_types=["comment.created"])
    comment = post_comment(room=room, author=carol, text=SECRET)
    first_try = Delivery.objects.get(endpoint=hook)
    assert SECRET in delivery.body_of(first_try, timestamp=0).decode()  # (the receiver is down)

    remove_comment(comment=comment, by=mod)

    retry = Delivery.objects.select_related("event__room").get(pk=first_try.pk)
    body = json.loads(delivery.body_of(retry, timestamp=0))
    assert body["data"] == {"comment": {"id": comment.pk, "removed": True}}
    assert SECRET not in json.dumps(body)
