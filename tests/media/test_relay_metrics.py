"""/metrics shows the relays through their public figures (media.relay.RelayStats): peers by
state, viewers, packets in and out (totals that never go down when a peer leaves), and each
WHEP viewer's first-frame time, once per viewer. Real aiortc peers through the WHIP/WHEP views."""

from __future__ import annotations

import re

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from rooms.models import Room
from tests.media.peers import Publisher, Viewer, luma_of, next_frame, seat_level, token_of
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SDP = "application/sdp"
FIRST_FRAME = "liverooms_first_frame_seconds"


def sample(text: str, name: str, labels: str = "") -> float:
    found = re.search("^" + re.escape(name + labels) + r" (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def scrape() -> str:
    response = await AsyncClient().get("/metrics")
    assert response.status_code == 200
    return str(response.content.decode())


async def publish(client: AsyncClient, room: Room, publisher: Publisher) -> None:
    token = await database_sync_to_async(token_of)(room, publisher.seat)
    response = await client.post(
        f"/rooms/{room.slug}/whip",
        data=await publisher.offer(),
        content_type=SDP,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.content
    await publisher.accept(response.content.decode())


async def watch(client: AsyncClient, room: Room, viewer: Viewer) -> str:
    response = await client.post(f"/rooms/{room.slug}/whep", data=await viewer.offer(), content_type=SDP)
    assert response.status_code == 201, response.content
    await viewer.accept(response.content.decode())
    return str(response["Location"])


async def test_each_viewers_first_frame_is_timed_once(relays: None, room: Room) -> None:
    client = AsyncClient()
    publisher, first, second = Publisher(0), Viewer(1), Viewer(4)
    try:
        before = await scrape()
        await publish(client, room, publisher)
        await watch(client, room, first)
        luma = await luma_of(first.track(0, "video"), frames=10)  # ten frames: still one first frame
        assert abs(luma - seat_level(0)) < 12
        text = await scrape()
        assert sample(text, FIRST_FRAME + "_count") == sample(before, FIRST_FRAME + "_count") + 1
        took = sample(text, FIRST_FRAME + "_sum") - sample(before, FIRST_FRAME + "_sum")
        assert 0 < took < 10, f"the first frame took {took} s"
        assert sample(text, FIRST_FRAME + "_bucket", '{le="10.0"}') >= 1

        await watch(client, room, second)  # a full-room viewer: one first frame, not one per seat
        await next_frame(second.track(0, "video"))
        for _ in range(30):
            await next_frame(first.track(0, "video"))
        text = await scrape()
        assert sample(text, FIRST_FRAME + "_count") == sample(before, FIRST_FRAME + "_count") + 2
    finally:
        for peer in (publisher, first, second):
            await peer.close()


async def test_a_viewer_without_video_has_no_first_frame(relays: None, room: Room) -> None:
    client = AsyncClient()
    publisher, viewer = Publisher(0, video=False), Viewer(1)
    try:
        before = sample(await scrape(), FIRST_FRAME + "_count")
        await publish(client, room, publisher)
        await watch(client, room, viewer)
        await next_frame(viewer.track(0, "audio"))  # connected, and hearing the seat
        await wait_for(lambda: viewer.pc.connectionState == "connected", what="the viewer connected")
        assert sample(await scrape(), FIRST_FRAME + "_count") == before
    finally:
        for peer in (publisher, viewer):
            await peer.close()


async def test_the_relay_figures_count_peers_viewers_and_packets_that_never_go_down(relays: None, room: Room) -> None:
    client = AsyncClient()
    publisher, viewer = Publisher(0), Viewer(1)
    try:
        await publish(client, room, publisher)
        location = await watch(client, room, viewer)
        for _ in range(30):
            await next_frame(viewer.track(0, "video"))
        text = await scrape()
        assert sample(text, "liverooms_relays") == 1
        assert sample(text, "liverooms_relay_viewers") == 1
        assert sample(text, "liverooms_peers", '{role="publisher",state="connected"}') == 1
        assert sample(text, "liverooms_peers", '{role="viewer",state="connected"}') == 1
        got, sent = sample(text, "liverooms_relay_packets_in_total"), sample(text, "liverooms_relay_packets_out_total")
        assert got >= 30
        assert sent >= 30

        # The viewer leaves: its packets stay in the total (a counter never goes down).
        assert (await client.delete(location)).status_code == 204
        after = await scrape()
        assert sample(after, "liverooms_relay_viewers") == 0
        assert sample(after, "liverooms_peers", '{role="viewer",state="connected"}') == 0
        assert sample(after, "liverooms_relay_packets_out_total") >= sent
        assert sample(after, "liverooms_relay_packets_in_total") >= got
    finally:
        for peer in (publisher, viewer):
            await peer.close()
