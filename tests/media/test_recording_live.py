"""A recorded live: four real aiortc publishers (each seat's own gray level and tone) through the
room's relay, the host turning seat 1's camera off for a while, then ending the live. The files
decode to the right seat's picture and sound, with the camera-off gap where it was; the replay is
ready soon after the end, `recording.ready` goes out, and the composed 4-up MP4 has every seat in
its place and all their sounds."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from django.contrib.auth.models import User

from liverooms.db import db_async
from liverooms.webhooks.models import Endpoint, Event
from media import services
from media.models import Recording, Replay
from media.replays import tracks
from rooms import actions as room_actions
from rooms import seats
from rooms.models import Room, Seat
from tests.media.peers import seat_level, wait_for
from tests.media.recording_tools import (
    db_wait_for,
    decode,
    frames_sent,
    loudest_seat,
    media_root,
    power_at,
    quadrant_luma,
    seat_tone,
    singing_publisher,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery tasks run where they are queued (the composition, as the replay becomes ready)."""
    from liverooms.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def seat_guests(room: Room) -> None:
    for index in (1, 2, 3):
        user = User.objects.create_user(f"guest{index}")
        Seat.objects.filter(room=room, index=index).update(user=user)
    Endpoint.objects.create(url="http://127.0.0.1:9/hook", event_types=["recording.ready"])


def check_seat_file(row: Recording) -> None:
    """The file is the seat's: its gray level, its tone; no gap in the picture but seat 1's."""
    assert row.size == Path(row.file.path).stat().st_size > 0
    got = decode(row.file.path, every=10)
    assert abs(sum(got.lumas) / len(got.lumas) - seat_level(row.seat_index)) < 12, row.seat_index
    assert row.duration > 6.0
    middle = got.audio_between(1.0, 2.0)
    assert loudest_seat(middle) == row.seat_index
    neighbour = seat_tone((row.seat_index + 1) % 4)
    assert power_at(middle, seat_tone(row.seat_index)) > 100 * power_at(middle, neighbour)
    if row.seat_index != 1:
        assert row.video_off == []
        assert max(b - a for a, b in zip(got.video_times, got.video_times[1:], strict=False)) < 0.7


async def test_it_records_four_seats_as_viewers_saw_them_and_composes_the_grid(
    relays: None, room: Room, alice: User, tmp_path: Path, eager_tasks: None
) -> None:
    with media_root(tmp_path):
        await db_async(seat_guests)(room)
        media = await services.relay_for(room)
        publishers = [singing_publisher(seat) for seat in range(4)]
        try:
            for seat, publisher in enumerate(publishers):
                # one after the other: each seat's file starts before the next seat goes live
                await publisher.start(media.relay)
                recorded = Recording.objects.filter(replay__room=room, seat_index=seat)
                await db_wait_for(recorded.exists, 15, f"seat {seat}'s file started")
            assert all(media.relay.is_publishing(s) for s in range(4))
            # times in the publishers' own media time (30 pictures a second), whatever the wall clock
            one = publishers[1]
            await wait_for(lambda: frames_sent(one) >= 75, 60, "2.5 s of seat 1's picture")
            await db_async(seats.set_devices)(room=room, user=alice, index=1, camera=False)
            off_frame = frames_sent(one)
            await wait_for(lambda: frames_sent(one) >= off_frame + 75, 60, "2.5 s more")
            guest = await db_async(User.objects.get)(username="guest1")
            await db_async(seats.set_devices)(room=room, user=guest, camera=True)  # only the guest turns it on
            on_frame = frames_sent(one)
            await wait_for(lambda: all(frames_sent(p) >= on_frame + 75 for p in publishers), 60, "2.5 s more")
            await db_async(room_actions.end_room)(room=room)
            ended = time.monotonic()
            await db_wait_for(
                lambda: Replay.objects.filter(room=room, ready_at__isnull=False).exists(), 20, "the replay ready"
            )
            ready_after = time.monotonic() - ended
        finally:
            for publisher in publishers:
                await publisher.close()
        assert ready_after < 5.0

        replay = await db_async(Replay.objects.get)(room=room)
        rows = await db_async(lambda: list(Recording.objects.filter(replay=replay).order_by("seat_index")))()
        assert [r.seat_index for r in rows] == [0, 1, 2, 3]
        assert all(r.container == "webm" and r.has_video and r.has_audio and r.ended_at for r in rows)
        for row in rows:
            check_seat_file(row)
        # seat 1: no picture while its camera was off (the file has no frames there, the row says so)
        one_row = rows[1]
        [(off, on)] = one_row.video_off
        assert abs(off - off_frame / 30) < 1.0
        assert abs((on - off) - (on_frame - off_frame) / 30) < 1.0
        times = decode(one_row.file.path).video_times
        assert not [t for t in times if off + 0.2 < t < on - 0.2]
        assert [t for t in times if t > on]  # and the picture came back
        listed = await db_async(tracks)(replay)
        assert [t["seat"] for t in listed] == [0, 1, 2, 3]
        starts = [t["start"] for t in listed]
        assert starts[0] == 0.0
        assert all(a < b for a, b in itertools.pairwise(starts))  # published one after the other
        assert starts[3] < 10.0
        assert listed[1]["video_off"] == [[round(off + listed[1]["start"], 3), round(on + listed[1]["start"], 3)]]
        event = await db_async(Event.objects.get)(room=room, type="recording.ready")
        assert event.data["replay"]["url"] == f"/rooms/{room.slug}/replay/"

        # the composition (ran as the replay became ready): each seat in its tile, every voice in the mix
        await db_wait_for(
            lambda: Replay.objects.get(pk=replay.pk).composed_status in ("ready", "failed"), 90, "the composition"
        )
        replay = await db_async(Replay.objects.get)(pk=replay.pk)
        assert replay.composed_status == "ready"
        path = replay.composed.path
        with av.open(path) as composed:
            assert composed.streams.video[0].codec_context.name == "h264"
            assert composed.streams.audio[0].codec_context.name == "aac"
            frames = [f for i, f in enumerate(composed.decode(video=0)) if i == 30]
        picture = frames[0]
        assert (picture.width, picture.height) == (1280, 720)
        for seat in range(4):
            assert abs(quadrant_luma(picture, seat) - seat_level(seat)) < 12, seat
        sound = decode(path).audio_between(1.0, 2.0)
        powers = [power_at(sound, seat_tone(seat)) for seat in range(4)]
        assert min(powers) > 20 * power_at(sound, 1900)  # all four tones, well above another frequency
