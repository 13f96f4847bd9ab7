"""Recording off — by the room's host, or for the whole site — means no file and no row; turned
off during the live, the files stop there and are closed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from liverooms.db import db_async
from media import services
from media.models import Recording, Replay
from media.recording import actions
from rooms.models import Room
from tests.media.peers import Publisher, wait_for
from tests.media.recording_tools import db_wait_for, media_root

pytestmark = pytest.mark.django_db(transaction=True)


async def publish_for(room: Room, seconds: float) -> None:
    media = await services.relay_for(room)
    publisher = Publisher(0)
    try:
        await publisher.start(media.relay)
        await wait_for(lambda: media.relay.is_publishing(0), 15, "publishing")
        await asyncio.sleep(seconds)
    finally:
        await publisher.close()
        await services.close_all()


def files_in(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


@pytest.mark.parametrize("off", ["by the host", "on the site"])
async def test_recording_off_writes_nothing(relays: None, room: Room, alice: User, tmp_path: Path, off: str) -> None:
    with media_root(tmp_path):
        if off == "by the host":
            await db_async(actions.set_recording)(room=room, user=alice, enabled=False)
            await publish_for(room, 1.5)
        else:
            with override_settings(RECORDING_ENABLED=False):
                await publish_for(room, 1.5)
        assert not await db_async(Recording.objects.filter(replay__room=room).exists)()
        assert await asyncio.to_thread(files_in, tmp_path) == []


async def test_turned_off_during_the_live_the_file_stops_and_closes(
    relays: None, room: Room, alice: User, tmp_path: Path
) -> None:
    with media_root(tmp_path):
        media = await services.relay_for(room)
        publisher = Publisher(0)
        try:
            await publisher.start(media.relay)
            await db_wait_for(lambda: Recording.objects.filter(replay__room=room).exists(), 15, "a recording")
            await asyncio.sleep(1.0)
            await db_async(actions.set_recording)(room=room, user=alice, enabled=False)
            await db_wait_for(lambda: Recording.objects.filter(ended_at__isnull=False).exists(), 5, "closed")
            row = await db_async(Recording.objects.get)(replay__room=room)
            await asyncio.sleep(1.5)  # still publishing, not recording
            again = await db_async(Recording.objects.get)(pk=row.pk)
            assert (again.size, again.duration) == (row.size, row.duration)
            assert row.duration > 0.5
            assert await db_async(Recording.objects.count)() == 1
            assert not (await db_async(Replay.objects.get)(room=room)).enabled
        finally:
            await publisher.close()
