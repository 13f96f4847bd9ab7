"""Hotline: viewers ask and vote, the host spotlights and answers, the host or a moderator
dismisses; every change on the ordered stream, resumable, and a dismissed question's text never
replayed."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.contrib.auth.models import User
from django.test import override_settings

from comments.models import Question
from rooms.models import Room
from rooms.seats import seat_user
from tests.sockets import Peer, join, until

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "is it true you live at 12 Elm Street?"


async def ask(tab: Peer, text: str) -> dict:
    return await tab.ask("question.ask", text=text)


async def test_a_question_goes_from_asked_to_spotlit_to_answered_on_every_screen(room: Room, alice, carol, bob) -> None:
    host, asker, other = await join(room, alice), await join(room, carol), await join(room, bob)
    answer = await ask(asker, "What camera do you use?")
    assert answer["type"] == "ack"
    question_id = answer["question_id"]
    for tab in (host, asker, other):
        created = await tab.recv("question.created")
        assert created["question"]["text"] == "What camera do you use?"
        assert created["question"]["user"]["username"] == "carol"
        assert created["question"]["votes"] == 0

    assert (await host.ask("question.spotlight", question_id=question_id))["type"] == "ack"
    for tab in (host, asker, other):
        assert (await tab.recv("question.spotlighted"))["question"]["id"] == question_id
    assert (await host.ask("question.answered", question_id=question_id))["type"] == "ack"
    for tab in (host, asker, other):
        assert await tab.recv("question.closed") == {
            "type": "question.closed",
            "seq": 3,
            "question_id": question_id,
            "how": "answered",
        }
    late = await join(room, bob)
    assert late.state["questions"] == []
    assert late.state["spotlight"] is None
    for tab in (host, asker, other, late):
        await tab.close()


async def test_votes_are_counted_once_per_user_and_coalesced(room: Room, alice, carol, bob, mod) -> None:
    host, asker = await join(room, alice), await join(room, carol)
    question_id = (await ask(asker, "First time live?"))["question_id"]
    await until(host, "question.created")
    voters = [await join(room, user) for user in (bob, mod)]
    for n, tab in enumerate(voters, start=1):
        assert (await tab.ask("question.vote", question_id=question_id, up=True))["votes"] == n
        again = await tab.ask("question.vote", question_id=question_id, up=True)  # a second vote counts nothing
        assert again["votes"] == n
    while (await until(host, "question.updated"))["votes"] != 2:
        pass
    assert (await voters[0].ask("question.vote", question_id=question_id, up=False))["votes"] == 1
    while (await until(host, "question.updated"))["votes"] != 1:
        pass
    state = (await join(room, mod)).state
    assert state["questions"][0]["votes"] == 1
    assert state["you"]["votes"] == [question_id]
    for tab in (host, asker, *voters):
        await tab.close()


async def test_a_dismissed_question_is_never_replayed(room: Room, alice, carol, mod) -> None:
    host, asker = await join(room, alice), await join(room, carol)
    question_id = (await ask(asker, SECRET))["question_id"]
    assert (await host.ask("question.spotlight", question_id=question_id))["type"] == "ack"
    moderator = await join(room, mod)
    assert (await moderator.ask("question.dismiss", question_id=question_id))["type"] == "ack"
    assert (await until(host, "question.closed"))["how"] == "dismissed"

    replay = await join(room, None, after=0)
    frames = [await replay.recv() for _ in range(3)]
    assert [f["type"] for f in frames] == ["question.created", "question.spotlighted", "question.closed"]
    assert frames[0]["question"] == {"id": question_id, "removed": True}
    assert frames[1]["question"] == {"id": question_id, "removed": True}
    assert SECRET not in json.dumps(frames)
    fresh = await join(room, None)
    assert (fresh.state["questions"], fresh.state["spotlight"]) == ([], None)
    for tab in (host, asker, moderator, replay, fresh):
        await tab.close()


@pytest.mark.parametrize(
    ("who", "frame", "fields", "code"),
    [
        (None, "question.ask", {"text": "hi?"}, "unauthenticated"),
        (None, "question.vote", {"question_id": 0, "up": True}, "unauthenticated"),
        ("bob", "question.ask", {"text": "hi?"}, "forbidden"),  # on the stage
        ("carol", "question.spotlight", {"question_id": 0}, "forbidden"),
        ("bob", "question.spotlight", {"question_id": 0}, "forbidden"),
        ("carol", "question.answered", {"question_id": 0}, "forbidden"),
        ("mod", "question.answered", {"question_id": 0}, "forbidden"),  # the host answers
        ("carol", "question.dismiss", {"question_id": 0}, "forbidden"),
        ("bob", "question.dismiss", {"question_id": 0}, "forbidden"),
        ("carol", "qa.set", {"enabled": False}, "forbidden"),
        ("mod", "qa.set", {"enabled": False}, "forbidden"),
        ("carol", "comment.pin", {"comment_id": 0}, "forbidden"),
        ("bob", "comment.pin", {"comment_id": 0}, "forbidden"),
        (None, "comment.pin", {"comment_id": 0}, "unauthenticated"),
    ],
)
async def test_who_may_do_what_and_refusals_change_nothing(
    room: Room, alice: User, bob: User, carol: User, mod: User, who, frame, fields, code
) -> None:
    await sync_to_async(seat_user)(room=room, user=bob, index=1)
    dave = await sync_to_async(User.objects.create_user)("dave", password="x" * 20)
    question_id = await sync_to_async(lambda: Question.objects.create(room=room, author=dave, text="q?").pk)()
    users = {"bob": bob, "carol": carol, "mod": mod}
    tab = await join(room, users.get(who))
    real = {k: (question_id if k == "question_id" else v) for k, v in fields.items()}
    before = (await sync_to_async(Room.objects.get)(pk=room.pk)).last_seq
    answer = await tab.ask(frame, **real)
    assert (answer["type"], answer["code"]) == ("error", code)
    assert (await sync_to_async(Room.objects.get)(pk=room.pk)).last_seq == before
    await tab.close()


async def test_one_open_question_at_a_time_and_qa_can_be_turned_off(room: Room, alice, carol) -> None:
    host, asker = await join(room, alice), await join(room, carol)
    first = await ask(asker, "one?")
    assert (await ask(asker, "two?"))["code"] == "forbidden"
    assert (await host.ask("question.answered", question_id=first["question_id"]))["type"] == "ack"
    assert (await ask(asker, "two?"))["type"] == "ack"
    assert (await host.ask("qa.set", enabled=False))["type"] == "ack"
    assert (await until(host, "room.updated"))["room"] == {"qa_enabled": False}
    assert (await ask(asker, "three?"))["code"] == "forbidden"
    assert (await join(room, carol)).state["room"]["qa_enabled"] is False
    for tab in (host, asker):
        await tab.close()


async def test_a_pinned_comment_shows_everywhere_and_leaves_when_removed(room: Room, alice, carol, mod) -> None:
    from comments.actions import remove_comment
    from comments.models import Comment

    host, viewer = await join(room, alice), await join(room, carol)
    comment_id = (await viewer.ask("comment.post", text=SECRET))["comment_id"]
    assert (await host.ask("comment.pin", comment_id=comment_id))["type"] == "ack"
    pinned = await until(viewer, "room.updated")
    assert pinned["room"]["pinned"]["text"] == SECRET
    assert (await join(room, None)).state["room"]["pinned"]["id"] == comment_id

    comment = await sync_to_async(Comment.objects.get)(pk=comment_id)
    await sync_to_async(remove_comment)(comment=comment, by=mod)
    assert (await until(viewer, "room.updated"))["room"] == {"pinned": None}
    assert (await join(room, None)).state["room"]["pinned"] is None
    replay = await join(room, None, after=0)
    frames = [await replay.recv() for _ in range(4)]
    assert SECRET not in json.dumps(frames)
    assert frames[1]["room"]["pinned"] == {"id": comment_id, "removed": True}
    for tab in (host, viewer, replay):
        await tab.close()


@override_settings(ACTION_BURST=1000, ROOM_SOCKETS_PER_ADDRESS=1000)
async def test_a_vote_storm_reaches_sockets_as_a_handful_of_frames_with_exact_totals(room: Room, alice, carol) -> None:
    voters = await sync_to_async(lambda: [User.objects.create_user(f"fan{n}", password="x" * 20) for n in range(60)])()
    host, asker = await join(room, alice), await join(room, carol)
    question_id = (await ask(asker, "Will you sing?"))["question_id"]
    tabs = [await join(room, user) for user in voters]
    started = time.monotonic()
    await asyncio.gather(*(tab.ask("question.vote", question_id=question_id, up=True) for tab in tabs))
    frames = []
    while not frames or frames[-1]["votes"] != len(voters):
        frames.append(await until(host, "question.updated", wait=5))
    ticks = (time.monotonic() - started) / 0.2
    assert len(frames) <= ticks + 2  # coalesced: at most one per question per 200 ms tick
    assert len(frames) < len(voters) / 3
    assert (await sync_to_async(Question.objects.get)(pk=question_id)).votes == len(voters)
    for tab in (host, asker, *tabs):
        await tab.close()
