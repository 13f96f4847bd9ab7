"""A daphne killed (SIGKILL) mid-live leaves its recordings open and unindexed; the next daphne to
start closes them and makes them playable. Seat 0 sends VP8 (WebM), seat 1 H.264 (fragmented MP4),
both over real WHIP to a real server process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.db import connection

from media.models import Recording, Replay
from rooms.models import Room, Seat
from tests.media.peers import Publisher, post_whip, seat_level, wait_for
from tests.media.recording_tools import db_wait_for, decode, media_root
from tests.servers import daphne

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _same_media_root(tmp_path: Path) -> Iterator[None]:
    """The servers write under tmp_path; this process reads the files there too."""
    with media_root(tmp_path):
        yield


def seat_bob(room: Room) -> list[str]:
    Seat.objects.filter(room=room, index=1).update(user=User.objects.create_user("bob"), publish_token="bob-token")
    return [Seat.objects.get(room=room, index=i).publish_token or "" for i in (0, 1)]


async def publish(port: int, room: Room, publisher: Publisher, token: str) -> None:
    url = f"http://127.0.0.1:{port}/rooms/{room.slug}/whip"
    answer = await asyncio.to_thread(post_whip, url, token, await publisher.offer())
    await publisher.accept(answer)


def unindexed(path: str) -> bool:
    """A file a killed writer left: no duration in its header."""
    with av.open(path) as container:
        return container.duration is None or container.format.name.startswith("mov")


def check_playable(row: Recording) -> None:
    assert row.ended_at is not None
    assert row.recovered
    assert row.writer == ""
    with av.open(row.file.path) as container:
        assert container.duration is not None
        assert container.duration / av.time_base > 1.0
        assert len(container.streams.video) == len(container.streams.audio) == 1
    got = decode(row.file.path, every=5)
    assert len(got.video_times) > 30
    assert abs(sum(got.lumas) / len(got.lumas) - seat_level(row.seat_index)) < 12
    assert row.duration > 1.0
    assert row.size == Path(row.file.path).stat().st_size


async def test_a_killed_server_leaves_recordings_the_next_start_repairs(room: Room, tmp_path: Path) -> None:
    tokens = await database_sync_to_async(seat_bob)(room)
    env = {"MEDIA_ROOT": str(tmp_path), "RECORDING_FLUSH_SECONDS": "0.5"}
    publishers = [Publisher(0), Publisher(1, video_codec="video/H264")]
    try:
        with daphne(connection.settings_dict, **env) as served:
            for publisher, token in zip(publishers, tokens, strict=True):
                await publish(served.port, room, publisher, token)
            await wait_for(lambda: all(p.pc.connectionState == "connected" for p in publishers), 15, "publishers")
            await db_wait_for(
                lambda: Recording.objects.filter(replay__room=room, size__gt=20_000).count() == 2, 20, "two files"
            )
            await asyncio.sleep(1.0)
            served.process.kill()  # SIGKILL: no trailer, no row closed
            served.process.wait()
        rows = await database_sync_to_async(lambda: list(Recording.objects.filter(replay__room=room)))()
        assert sorted((r.seat_index, r.container, r.ended_at) for r in rows) == [(0, "webm", None), (1, "mp4", None)]
        assert all(await asyncio.gather(*(asyncio.to_thread(unindexed, r.file.path) for r in rows)))
        started = time.monotonic()
        with daphne(connection.settings_dict, **env):
            await db_wait_for(
                lambda: not Recording.objects.filter(replay__room=room, ended_at__isnull=True).exists(), 20, "recovery"
            )
        assert time.monotonic() - started < 20
    finally:
        for publisher in publishers:
            await publisher.close()
    rows = await database_sync_to_async(lambda: list(Recording.objects.filter(replay__room=room)))()
    for row in rows:
        await asyncio.to_thread(check_playable, row)
    replay = await database_sync_to_async(Replay.objects.get)(room=room)
    assert replay.ready_at is None  # the live did not end: the replay waits for it
