"""End to end: a live recorded by the relay itself (two real aiortc publishers), then replayed in
Chromium from the files the recorder wrote: both seats play, in sync, before and after a seek; the
host makes it private from the page, and a viewer's open page is told."""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from liverooms.db import db_async
from media import services
from media.models import Replay
from rooms import actions as room_actions
from rooms.models import Room, Seat
from tests.browser.conftest import ARTIFACTS, page_as
from tests.browser.test_replay import CLOCK, PHONE, assert_in_sync, open_replay, seek_to, wait_clock
from tests.media.peers import wait_for
from tests.media.recording_tools import db_wait_for, singing_publisher
from tests.rooms.replays import stored_files

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _files() -> Iterator[None]:
    with stored_files():
        yield


async def _record(room: Room, seconds: float) -> None:
    media = await services.relay_for(room)
    publishers = [singing_publisher(seat) for seat in (0, 1)]
    try:
        for publisher in publishers:
            await publisher.start(media.relay)
        await wait_for(lambda: all(media.relay.is_publishing(s) for s in (0, 1)), 20, "both seats publishing")
        await asyncio.sleep(seconds)
        await db_async(room_actions.end_room)(room=room)
        await db_wait_for(lambda: Replay.objects.filter(room=room, ready_at__isnull=False).exists(), 30, "ready")
    finally:
        for publisher in publishers:
            await publisher.close()
        await services.close_all()


def record(room: Room, seconds: float) -> None:
    """Run the live on an event loop of its own (Playwright's sync API holds this thread's)."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(_record(room, seconds))
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    if failure:
        raise failure[0]


def test_a_live_the_relay_recorded_replays_in_sync(server: str, browser: Any, room: Room, alice, bob, carol) -> None:  # type: ignore[no-untyped-def]
    Seat.objects.filter(room=room, index=1).update(user=bob)
    record(room, seconds=5)
    url = f"{server}/rooms/{room.slug}/replay/"

    viewer = page_as(browser, server, carol, viewport=PHONE)
    open_replay(viewer, url)
    assert viewer.is_hidden("#replay-host")  # only the host has the panel
    # (on a loaded machine a file's media time may lag the wall clock: look while both files play)
    timeline = json.loads(viewer.text_content("#timeline-data"))
    both = min(track["end"] for seat in timeline["seats"] for track in seat["tracks"])
    back_to = math.ceil(max(track["start"] for seat in timeline["seats"] for track in seat["tracks"]))
    assert len(timeline["seats"]) == 2
    assert both > 2.0, timeline["seats"]
    viewer.click("#play")
    wait_clock(viewer, both / 2)
    assert_in_sync(viewer, seats=2, what="recorded by the relay, playing")
    assert viewer.evaluate("() => document.querySelectorAll('.tile.has-video').length") == 2
    ARTIFACTS.mkdir(exist_ok=True)
    viewer.screenshot(path=str(ARTIFACTS / "replay-recorded-phone.png"))
    assert back_to < both - 1.5
    seek_to(viewer, back_to)
    viewer.wait_for_timeout(300)
    assert back_to <= viewer.evaluate(CLOCK)["t"] < both / 2 + 0.5
    assert_in_sync(viewer, seats=2, what="recorded by the relay, after a seek")

    host = page_as(browser, server, alice, viewport=PHONE)
    open_replay(host, url)
    host.click("#toggle-private")
    host.wait_for_selector("text=The replay is private.", timeout=5000)
    assert host.get_attribute("#toggle-private", "aria-pressed") == "true"
    viewer.wait_for_selector("text=The host made this replay private.", timeout=8000)
    assert viewer.goto(url).status == 403
