"""Resume: a socket that reconnects with `?after=<seq>` misses nothing and sees nothing twice."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.test import override_settings

from comments.actions import post_comment, remove_comment
from comments.models import Comment
from rooms.events import RESUME_MAX_EVENTS
from rooms.models import Room
from tests.sockets import Peer, join

pytestmark = pytest.mark.django_db(transaction=True)


async def goes_on_live(tab: Peer, room: Room, author: Any, seq: int) -> None:
    """The resumed socket is alive and in the room: the next event reaches it, at the next `seq`,
    and nothing else comes (a socket the server dropped, or whose consumer died, would hear none)."""
    await sync_to_async(post_comment)(room=room, author=author, text="still here?")
    live = await tab.recv()
    assert (live["type"], live["seq"], live["comment"]["text"]) == ("comment.created", seq, "still here?")
    await tab.nothing_more()


async def test_it_replays_what_a_socket_missed_then_goes_on_live(room: Room, alice, carol, mod) -> None:
    tab = await join(room, carol)
    seen = tab.state["seq"]
    await tab.close()

    first = await sync_to_async(post_comment)(room=room, author=alice, text="while you were away")
    await sync_to_async(post_comment)(room=room, author=alice, text="second")
    await sync_to_async(remove_comment)(comment=first, by=mod)

    tab = await join(room, carol, after=seen)
    replayed = [await tab.recv() for _ in range(3)]
    assert [(f["seq"], f["type"]) for f in replayed] == [
        (1, "comment.created"),
        (2, "comment.created"),
        (3, "comment.removed"),
    ]
    await sync_to_async(post_comment)(room=room, author=alice, text="live again")
    live = await tab.recv()
    assert (live["seq"], live["comment"]["text"]) == (4, "live again")
    await tab.nothing_more()
    await tab.close()


async def test_an_up_to_date_socket_gets_nothing_replayed(room: Room, alice, carol) -> None:
    await sync_to_async(post_comment)(room=room, author=alice, text="old news")
    tab = await join(room, carol, after=1)
    await tab.nothing_more()
    await goes_on_live(tab, room, alice, seq=2)
    await tab.close()


@pytest.mark.parametrize("after", [99, -1, "abc"])
async def test_a_seq_the_room_never_reached_gets_a_fresh_state(room: Room, alice, carol, after: Any) -> None:
    tab = await join(room, carol, after=after)
    state = await tab.recv()
    assert (state["type"], state["seq"]) == ("room.state", 0)
    await goes_on_live(tab, room, alice, seq=1)
    await tab.close()


async def test_a_socket_too_far_behind_gets_a_fresh_state(room: Room, alice, carol, monkeypatch) -> None:
    monkeypatch.setattr("rooms.events.RESUME_MAX_EVENTS", 2)
    for n in range(3):
        await sync_to_async(post_comment)(room=room, author=alice, text=f"c{n}")
    tab = await join(room, carol, after=0)
    state = await tab.recv()
    assert (state["type"], state["seq"]) == ("room.state", 3)
    assert [c["text"] for c in state["comments"]] == ["c0", "c1", "c2"]
    assert RESUME_MAX_EVENTS == 1000
    await goes_on_live(tab, room, alice, seq=4)
    await tab.close()


def _apply(view: dict[int, str], frame: dict[str, Any]) -> None:
    """What a page does with each frame: a redacted `comment.created` (removed since) is dropped."""
    if frame["type"] == "comment.created" and frame["comment"].get("removed"):
        assert set(frame["comment"]) == {"id", "removed"}, frame
    elif frame["type"] == "comment.created":
        view[frame["comment"]["id"]] = frame["comment"]["text"]
    elif frame["type"] == "comment.removed":
        view.pop(frame["comment_id"], None)


@override_settings(COMMENT_HOST_BURST=1000, STAGE_ACTION_BURST=1000)  # the host posts as fast as it can
async def test_viewers_that_drop_and_resume_end_up_seeing_exactly_the_database(room: Room, alice, mod) -> None:
    """Comments and removals flow while viewers drop their sockets at random moments and resume:
    every viewer receives each event once, in order, and ends with the database's visible set."""
    rng = random.Random(7)  # noqa: S311 - test choreography, not security
    comments, removals = 60, 15
    last_seq = comments + removals

    async def moderate_and_chat() -> None:
        visible: list[Comment] = []
        for n in range(comments):
            visible.append(await sync_to_async(post_comment)(room=room, author=alice, text=f"m{n}"))
            if n % 4 == 3:
                gone = visible.pop(rng.randrange(len(visible)))
                await sync_to_async(remove_comment)(comment=gone, by=mod)
            await asyncio.sleep(rng.uniform(0, 0.02))

    async def viewer() -> tuple[dict[int, str], list[int]]:
        tab: Peer = await join(room)
        view = {c["id"]: c["text"] for c in tab.state["comments"]}
        seqs = [tab.state["seq"]]
        while seqs[-1] < last_seq:
            frame = await tab.recv(wait=5)
            assert frame["seq"] == seqs[-1] + 1, (frame, seqs[-5:])
            seqs.append(frame["seq"])
            _apply(view, frame)
            if seqs[-1] < last_seq and rng.random() < 0.1:
                # drop the socket (frames in flight are lost with it), come back later
                await tab.communicator.disconnect()
                await asyncio.sleep(rng.uniform(0, 0.05))
                tab = await join(room, after=seqs[-1])
        await tab.nothing_more(0.2)
        await tab.close()
        return view, seqs

    chatter = asyncio.create_task(moderate_and_chat())
    results = await asyncio.gather(*(viewer() for _ in range(5)))
    await chatter

    def visible() -> dict[int, str]:
        return dict(Comment.objects.filter(room=room, removed_at__isnull=True).values_list("id", "text"))

    truth = await sync_to_async(visible)()
    assert await sync_to_async(lambda: Room.objects.get(pk=room.pk).last_seq)() == last_seq
    assert len(truth) == comments - removals
    for view, seqs in results:
        assert seqs[-1] == last_seq
        assert view == truth
