"""The relay's public figures (`Relays.stats()`, what /metrics shows): peers by role and state,
viewers, packets in and out that never go down as peers and relays close; and the first-frame
time it reports once per viewer. Bare relays with real aiortc peers (no Django)."""

from __future__ import annotations

from media.relay import Relays
from tests.media.peers import Publisher, Viewer, next_frame
from tests.waiting import wait_for


async def test_it_counts_peers_viewers_and_packets_and_keeps_the_packets_of_peers_gone() -> None:
    first_frames: list[float] = []
    relays = Relays(on_first_frame=first_frames.append)
    relay = relays.get("room-a", forwarding=True)
    publisher, viewer, late = Publisher(0), Viewer(1), Viewer(4)
    try:
        assert (await relays.stats()).relays == 1
        await publisher.start(relay)
        await viewer.start(relay)
        for _ in range(30):
            await next_frame(viewer.track(0, "video"))
        stats = await relays.stats()
        assert stats.relays == 1
        assert stats.viewers == 1
        assert stats.peers == {("publisher", "connected"): 1, ("viewer", "connected"): 1}
        assert stats.packets_in >= 30
        assert stats.packets_out >= 30
        assert len(first_frames) == 1
        assert 0 < first_frames[0] < 10

        await late.start(relay)
        await next_frame(late.track(0, "video"))
        await wait_for(lambda: len(first_frames) == 2, what="the second viewer's first frame")
        for _ in range(30):
            await next_frame(viewer.track(0, "video"))
        assert len(first_frames) == 2  # once per viewer, not per frame nor per seat

        before = await relays.stats()
        await relays.close("room-a")  # every peer ends: what they received and sent stays counted
        after = await relays.stats()
        assert (after.relays, after.viewers, dict(after.peers)) == (0, 0, {})
        assert after.packets_in >= before.packets_in
        assert after.packets_out >= before.packets_out
    finally:
        for peer in (publisher, viewer, late):
            await peer.close()
        await relays.close_all()
