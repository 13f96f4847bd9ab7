"""A client that resends `comment.post` with the same `ref` (its ack was lost) stores one comment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.utils import timezone

from comments.actions import post_comment
from comments.models import Comment
from rooms.models import Room
from tests.sockets import Peer, join


async def post(tab: Peer, ref: str) -> dict:
    """Send `comment.post` with `ref` and return its ack (the comment's own frame may come first)."""
    await tab.send("comment.post", text="hello", ref=ref)
    return await _ack(tab)


async def _ack(tab: Peer) -> dict:
    while (frame := await tab.recv())["type"] != "ack":
        assert frame["type"] == "comment.created", frame
    return frame


@pytest.mark.django_db(transaction=True)
async def test_a_retried_post_answers_the_first_ack_and_stores_nothing_new(room: Room, carol) -> None:
    tab = await join(room, carol)
    first = await post(tab, "post-1")
    again = await post(tab, "post-1")  # the ack was lost: the client retries

    [comment] = await sync_to_async(list)(Comment.objects.all())
    assert first == again == {"type": "ack", "ref": "post-1", "comment_id": comment.pk}
    await tab.nothing_more()
    assert await sync_to_async(Comment.objects.count)() == 1
    await tab.close()


@pytest.mark.django_db(transaction=True)
async def test_a_retry_on_another_socket_of_the_same_user_is_the_same_comment(room: Room, carol, bob) -> None:
    phone, laptop = await join(room, carol), await join(room, carol)
    ack = await post(phone, "same")
    assert (await post(laptop, "same"))["comment_id"] == ack["comment_id"]
    # another user's ref is theirs alone
    other = await join(room, bob)
    assert (await post(other, "same"))["comment_id"] != ack["comment_id"]
    assert await sync_to_async(Comment.objects.count)() == 2
    for tab in (phone, laptop, other):
        await tab.close()


@pytest.mark.django_db
def test_a_ref_older_than_ten_minutes_posts_again(room: Room, carol) -> None:
    first = post_comment(room=room, author=carol, text="hi", ref="r")
    Comment.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    second = post_comment(room=room, author=carol, text="hi", ref="r")
    assert second.pk != first.pk
    assert post_comment(room=room, author=carol, text="hi", ref="r").pk == second.pk
    assert Comment.objects.count() == 2


@pytest.mark.django_db
def test_posts_without_a_ref_are_never_taken_for_retries(room: Room, carol) -> None:
    post_comment(room=room, author=carol, text="hi")
    post_comment(room=room, author=carol, text="hi")
    assert Comment.objects.count() == 2
