"""The replay's hearts timeline: reactions counted per second by the hubs, in batches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from rooms import reaction_seconds
from rooms.models import ReactionSecond, Room
from rooms.reaction_seconds import hearts_track
from tests.sockets import join


@pytest.mark.django_db
def test_tallies_of_one_second_from_several_processes_add_up(room: Room) -> None:
    base = timezone.now().replace(microsecond=0).timestamp()
    reaction_seconds.note(room.pk, {"heart": 3, "fire": 1}, at=base + 0.1)
    reaction_seconds.note(room.pk, {"heart": 2}, at=base + 0.9)
    reaction_seconds.note(room.pk, {"clap": 4}, at=base + 2.5)
    assert reaction_seconds.flush(room_id=room.pk) == 2
    reaction_seconds.note(room.pk, {"heart": 10}, at=base + 0.5)  # another process, the same second
    assert reaction_seconds.flush(room_id=room.pk) == 1
    assert reaction_seconds.flush(room_id=room.pk) == 0  # nothing new: no write

    started = datetime.fromtimestamp(base, tz=UTC) - timedelta(seconds=1)
    assert hearts_track(room=room, started=started) == [[1.0, 15, 1], [3.0, 0, 4]]
    assert ReactionSecond.objects.filter(room=room).count() == 2


@pytest.mark.django_db(transaction=True)
async def test_hearts_sent_in_a_live_are_on_its_timeline(room: Room, carol: User) -> None:
    viewer = await join(room, carol)
    for _ in range(5):
        await viewer.send("reaction.send", kind="heart")
    await viewer.close()  # the hub stops and reports
    for _ in range(50):
        if await ReactionSecond.objects.filter(room=room).aexists():
            break
        await asyncio.sleep(0.1)
    rows = [row async for row in ReactionSecond.objects.filter(room=room)]
    assert sum(row.hearts for row in rows) == 5
    assert all(abs((row.second - timezone.now()).total_seconds()) < 10 for row in rows)
