"""What one client can make the relay spend: a flood of offers is refused early with 429 and
Retry-After, per address, per room and per process, while a viewer already watching keeps getting
media. Real aiortc peers over loopback; the flood's requests carry public client addresses (the
ASGI scope's `client`), the relay never sends anything to them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import ThreadSensitiveContext
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.test import AsyncClient, RequestFactory

from media import services
from media.limits import candidate_filter, client_address, media_limits
from media.sdp import screen_candidates
from rooms import actions as room_actions
from rooms.models import Room
from tests.media.peers import Publisher, Viewer, luma_of, seat_level, token_of, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SDP = "application/sdp"
FLOODER = "9.9.9.7"
OTHER = "9.9.8.20"


def public(n: int) -> str:
    return f"9.9.7.{n}"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class ClientAt(AsyncClient):
    """An AsyncClient whose requests come from `address` (the ASGI scope's `client`, which becomes
    REMOTE_ADDR; AsyncClient has no argument for it)."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    def _base_scope(self, **request: Any) -> dict[str, Any]:
        scope: dict[str, Any] = super()._base_scope(**request)
        scope["client"] = [self.address, 50000]
        return scope


async def post(url: str, offer: str, address: str = "127.0.0.1", **headers: str) -> Any:
    # Each request on its own thread for sync middleware, as under daphne: a flood is concurrent.
    async with ThreadSensitiveContext():
        return await ClientAt(address).post(url, data=offer, content_type=SDP, headers=headers)


async def flood(room: Room, offer: str, count: int, addresses: list[str]) -> list[Any]:
    url = f"/rooms/{room.slug}/whep"
    return list(await asyncio.gather(*(post(url, offer, addresses[n % len(addresses)]) for n in range(count))))


def statuses(responses: list[Any]) -> dict[int, int]:
    counted: dict[int, int] = {}
    for response in responses:
        counted[response.status_code] = counted.get(response.status_code, 0) + 1
    return counted


class Stage:
    """Seat 0 publishing over WHIP, and one viewer (from loopback) watching it over WHEP."""

    def __init__(self) -> None:
        self.publisher = Publisher(0)
        self.viewer = Viewer(1)

    async def start(self, room: Room) -> None:
        token = await database_sync_to_async(token_of)(room, 0)
        published = await post(
            f"/rooms/{room.slug}/whip", await self.publisher.offer(), Authorization=f"Bearer {token}"
        )
        assert published.status_code == 201, published.content
        await self.publisher.accept(published.content.decode())
        watched = await post(f"/rooms/{room.slug}/whep", await self.viewer.offer())
        assert watched.status_code == 201, watched.content
        await self.viewer.accept(watched.content.decode())
        await self.sees_seat_0()

    async def sees_seat_0(self) -> None:
        """Seat 0's picture, and a second of new video packets (not frames decoded earlier)."""
        before = await self.viewer.packets_received(0, "video")
        assert abs(await luma_of(self.viewer.track(0, "video"), within=8) - seat_level(0)) < 12
        deadline = asyncio.get_running_loop().time() + 8
        while await self.viewer.packets_received(0, "video") < before + 30:
            assert asyncio.get_running_loop().time() < deadline, "seat 0's video stopped"
            await asyncio.sleep(0.1)

    async def close(self) -> None:
        await self.publisher.close()
        await self.viewer.close()


@pytest.fixture
async def stage(relays: None, room: Room) -> AsyncIterator[Stage]:
    stage = Stage()
    try:
        await stage.start(room)
        yield stage
    finally:
        await stage.close()


@pytest.fixture
async def offer() -> AsyncIterator[str]:
    """One viewer offer, posted many times (the relay makes a peer for each; none ever connects)."""
    viewer = Viewer(4)
    try:
        yield await viewer.offer()
    finally:
        await viewer.close()


def retry_afters(responses: list[Any]) -> set[int]:
    return {int(r["Retry-After"]) for r in responses if r.status_code == 429}


async def test_a_flood_from_one_address_is_refused_past_its_offer_rate(
    stage: Stage, room: Room, offer: str, settings: Any
) -> None:
    settings.MEDIA_OFFER_BURST, settings.MEDIA_OFFERS_PER_MINUTE = 5, 6
    fds = open_fds()
    responses = await flood(room, offer, 40, [FLOODER])
    assert statuses(responses) == {201: 5, 429: 35}
    assert retry_afters(responses) <= set(range(1, 11))
    assert retry_afters(responses)
    assert all(r["Access-Control-Expose-Headers"].endswith("Retry-After") for r in responses)
    assert services.relays().census.of(FLOODER) == 5
    assert open_fds() - fds <= 5 * 4, "the refused offers must cost no sockets"
    await stage.sees_seat_0()
    # another address is not held up by this one's bucket
    assert (await post(f"/rooms/{room.slug}/whep", offer, OTHER)).status_code == 201


async def test_a_flood_from_one_address_is_refused_past_its_peers(
    stage: Stage, room: Room, offer: str, settings: Any
) -> None:
    settings.MEDIA_OFFER_BURST = 1000
    settings.MEDIA_PEERS_PER_ADDRESS = 3
    settings.MEDIA_CONNECT_TIMEOUT = 4.0
    fds = open_fds()
    responses = await flood(room, offer, 30, [FLOODER])
    assert statuses(responses) == {201: 3, 429: 27}
    assert retry_afters(responses) == {4}  # by then its unconnected peers are reaped
    media = services.media_of(room.pk)
    assert media is not None
    assert media.relay.viewer_count() == 1 + 3
    assert open_fds() - fds <= 3 * 4
    await stage.sees_seat_0()
    assert (await post(f"/rooms/{room.slug}/whep", offer, OTHER)).status_code == 201


async def test_a_room_takes_no_more_viewers_than_its_cap(
    stage: Stage, room: Room, offer: str, settings: Any, bob: User
) -> None:
    settings.MEDIA_OFFER_BURST = 1000
    settings.MEDIA_PEERS_PER_ROOM = 4  # the stage's viewer is one
    responses = await flood(room, offer, 20, [public(n) for n in range(1, 21)])
    assert statuses(responses) == {201: 3, 429: 17}
    await stage.sees_seat_0()
    other = await database_sync_to_async(room_actions.create_room)(host=bob, title="Bob live")
    assert (await post(f"/rooms/{other.slug}/whep", offer, OTHER)).status_code == 201


async def test_a_process_takes_no_more_viewers_than_its_cap(
    stage: Stage, room: Room, offer: str, settings: Any, bob: User
) -> None:
    settings.MEDIA_OFFER_BURST = 1000
    settings.MEDIA_MAX_PEERS = 3  # viewers, every room; the stage's viewer is one
    other = await database_sync_to_async(room_actions.create_room)(host=bob, title="Bob live")
    responses = await flood(other, offer, 10, [public(n) for n in range(1, 11)])
    assert statuses(responses) == {201: 2, 429: 8}
    assert services.relays().census.viewers == 3
    await stage.sees_seat_0()


async def test_unconnected_peers_are_capped_and_reaped(stage: Stage, room: Room, offer: str, settings: Any) -> None:
    settings.MEDIA_OFFER_BURST = 1000
    settings.MEDIA_MAX_PENDING_PEERS = 2
    settings.MEDIA_CONNECT_TIMEOUT = 1.0
    census = services.relays().census
    assert census.pending == 0  # the stage's viewer is connected
    responses = await flood(room, offer, 6, [public(n) for n in range(1, 7)])
    assert statuses(responses) == {201: 2, 429: 4}
    assert retry_afters(responses) == {1}
    await wait_for(lambda: census.pending == 0, within=4.0, what="unconnected peers reaped")
    assert census.viewers == 1
    assert (await post(f"/rooms/{room.slug}/whep", offer, public(99))).status_code == 201
    await stage.sees_seat_0()


async def test_loopback_clients_are_not_limited_per_address(
    stage: Stage, room: Room, offer: str, settings: Any
) -> None:
    """`make run`, the benchmarks and a local proxy not declared with BEHIND_PROXY all come from
    loopback: per-address limits would cap the whole server there."""
    settings.MEDIA_OFFER_BURST, settings.MEDIA_PEERS_PER_ADDRESS = 1, 1
    responses = await flood(room, offer, 4, ["127.0.0.1"])
    assert statuses(responses) == {201: 4}


def test_the_defaults() -> None:
    limits = media_limits()
    assert limits.connect_timeout == 10.0
    assert (limits.peers.per_address, limits.peers.per_room, limits.peers.per_process) == (10, 150, 300)
    assert limits.peers.pending == 50
    assert (limits.offer_burst, limits.offers_per_minute, limits.max_candidates) == (10, 30, 20)
    assert not limits.allow_private_candidates


# --- the client's address ---------------------------------------------------------------------


def test_the_client_address_is_the_sockets_unless_behind_a_proxy(settings: Any) -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    settings.BEHIND_PROXY = False
    assert client_address(request, media_limits()) == "10.0.0.2"  # a client's own header means nothing
    settings.BEHIND_PROXY = True
    assert client_address(request, media_limits()) == "198.51.100.7"  # what our proxy appended
    garbage = RequestFactory().post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, not-an-ip")
    assert client_address(garbage, media_limits()) == "10.0.0.2"


# --- ICE candidates -----------------------------------------------------------------------------

CANDIDATES = [
    "192.0.2.2",  # TEST-NET: not global
    "10.1.2.3",
    "127.0.0.1",
    "169.254.1.1",
    "fd00::2",
    "0123abcd-0000-4000-8000-000000000000.local",
    "198.51.100.77",  # TEST-NET too: not global
    "8.8.8.8",
    "2001:4860::8888",
    "224.0.0.1",
]


def offer_with(addresses: list[str], sections: int = 2) -> str:
    lines = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0"]
    for n in range(sections):
        lines += ["m=audio 9 UDP/TLS/RTP/SAVPF 111", f"a=mid:{n}"]
        lines += [f"a=candidate:{i} 1 udp 2130706431 {a} {5000 + i} typ host" for i, a in enumerate(addresses)]
        lines.append("a=end-of-candidates")
    return "\r\n".join(lines) + "\r\n"


def kept(sdp: str) -> list[str]:
    return [line.split()[4] for line in sdp.splitlines() if line.startswith("a=candidate:")]


def test_a_public_client_gets_checks_only_to_public_candidates(settings: Any) -> None:
    settings.MEDIA_ALLOW_PRIVATE_CANDIDATES = False
    limits = media_limits()
    screened, dropped = screen_candidates(offer_with(CANDIDATES), keep=candidate_filter(FLOODER, limits), limit=20)
    assert kept(screened) == ["8.8.8.8", "2001:4860::8888"] * 2
    assert dropped == 8
    assert "a=end-of-candidates" not in screened  # wait for the client's own checks instead
    lan = candidate_filter("192.168.1.20", limits)
    assert [a for a in CANDIDATES if lan(a)] == [a for a in CANDIDATES if a not in ("127.0.0.1", "224.0.0.1")]
    local = candidate_filter("127.0.0.1", limits)
    assert all(local(a) for a in CANDIDATES)
    settings.MEDIA_ALLOW_PRIVATE_CANDIDATES = True
    assert all(candidate_filter(FLOODER, media_limits())(a) for a in CANDIDATES)


def test_an_offer_gets_at_most_so_many_candidates_tried() -> None:
    addresses = [f"8.8.{n // 250}.{n % 250}" for n in range(300)]
    screened, dropped = screen_candidates(offer_with(addresses), keep=lambda a: True, limit=20)
    assert kept(screened) == addresses[:20] * 2  # distinct ones: a bundled offer repeats them
    assert dropped == 280
    untouched = offer_with(addresses[:3])
    assert screen_candidates(untouched, keep=lambda a: True, limit=20) == (untouched, 0)


async def test_a_public_client_offering_only_private_candidates_still_connects(
    relays: None, room: Room, settings: Any
) -> None:
    """The relay ignores every candidate of this offer (TEST-NET / ULA host addresses, seen from a
    public client address) and connects through the client's own checks (peer-reflexive)."""
    settings.BEHIND_PROXY = True
    stage = Stage()
    try:
        token = await database_sync_to_async(token_of)(room, 0)
        published = await post(
            f"/rooms/{room.slug}/whip", await stage.publisher.offer(), Authorization=f"Bearer {token}"
        )
        await stage.publisher.accept(published.content.decode())
        offer = await stage.viewer.offer()
        assert kept(offer)
        assert not any(candidate_filter(FLOODER, media_limits())(a) for a in kept(offer))
        watched = await post(f"/rooms/{room.slug}/whep", offer, "127.0.0.1", **{"X-Forwarded-For": FLOODER})
        assert watched.status_code == 201
        await stage.viewer.accept(watched.content.decode())
        await stage.sees_seat_0()
        media = services.media_of(room.pk)
        assert media is not None
        viewer = next(s for s in media.relay._sessions.values() if s.role == "viewer")
        assert viewer.client == FLOODER
        ice = viewer.pc.getTransceivers()[0].sender.transport.transport
        # none of the offered ones was tried: the one pair is the client's own checks' address
        assert [c.type for c in ice.getRemoteCandidates()] == ["prflx"]
    finally:
        await stage.close()
