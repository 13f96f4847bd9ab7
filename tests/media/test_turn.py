"""TURN for clients behind NAT: a real coturn (Debian's `turnserver`) started on loopback with the
TURN REST API shared secret, and a real aiortc viewer allowed only relayed candidates
(`iceTransportPolicy="relay"`) playing a seat through it with the credentials the WHEP endpoint
handed out in its `Link` header. A forged or expired credential gets no allocation: no media."""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer, RTCIceTransportPolicy, RTCPeerConnection
from django.test import AsyncClient, override_settings

from media.turn import credential_for, password_for
from rooms.models import Room
from tests.media.peers import Publisher, Viewer, luma_of, publish_via_whip, seat_level, wait_for
from tests.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True)
SDP = "application/sdp"
SECRET = "turn-test-secret"
REALM = "liverooms.test"
LINK = re.compile(r'<(?P<url>[^>]+)>; rel="ice-server"(?P<params>[^<]*)')


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _relay_ports(count: int = 40) -> tuple[int, int]:
    """A range of UDP ports free now for coturn's relayed allocations."""
    for _ in range(50):
        low = random.randrange(20000, 60000 - count)  # noqa: S311 - a port range, not a secret
        if all(_udp_free(p) for p in range(low, low + count)):
            return low, low + count - 1
    raise RuntimeError("no free UDP port range for coturn")


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[str]:
    """coturn on 127.0.0.1 (UDP+TCP on a free port, no TLS/DTLS, loopback peers allowed, only
    shared-secret credentials); yields its `turn:` URL."""
    if shutil.which("turnserver") is None:
        pytest.skip("coturn is not installed (apt-get install coturn; .ci/run does)")
    port = free_port()
    while not _udp_free(port):
        port = free_port()
    low, high = _relay_ports()
    conf = tmp_path / "turnserver.conf"
    log = tmp_path / "turnserver.log"
    conf.write_text(
        "\n".join(
            [
                "listening-ip=127.0.0.1",
                f"listening-port={port}",
                "relay-ip=127.0.0.1",
                f"min-port={low}",
                f"max-port={high}",
                "fingerprint",
                "use-auth-secret",
                f"static-auth-secret={SECRET}",
                f"realm={REALM}",
                "no-tls",
                "no-dtls",
                "no-cli",
                "no-multicast-peers",
                "allow-loopback-peers",
                f"userdb={tmp_path / 'turndb'}",
                f"pidfile={tmp_path / 'turnserver.pid'}",
                f"log-file={log}",
                "simple-log",
                "verbose",
                "",
            ]
        )
    )
    process = subprocess.Popen(
        [shutil.which("turnserver") or "turnserver", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, f"turnserver exited: {log.read_text() if log.exists() else ''}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "turnserver did not listen within 10 s"
                time.sleep(0.05)
        yield f"turn:127.0.0.1:{port}?transport=udp"
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def ice_servers_of(link_header: str) -> list[RTCIceServer]:
    """RTCIceServers from `Link: <turn:…>; rel="ice-server"; username="…"; credential="…"` (RFC 9725 §4.6)."""
    servers = []
    for match in LINK.finditer(link_header):
        params = dict(re.findall(r'(\w[\w-]*)="((?:[^"\\]|\\.)*)"', match["params"]))
        servers.append(
            RTCIceServer(urls=match["url"], username=params.get("username"), credential=params.get("credential"))
        )
    return servers


def relay_only(servers: list[RTCIceServer]) -> RTCConfiguration:
    return RTCConfiguration(
        iceServers=servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE, iceTransportPolicy=RTCIceTransportPolicy.RELAY
    )


class RelayedViewer(Viewer):
    """A one-seat WHEP viewer (audio + video) whose ICE may use relayed candidates only."""

    def __init__(self, servers: list[RTCIceServer]) -> None:
        self.pc = RTCPeerConnection(configuration=relay_only(servers))
        for kind in ("audio", "video"):
            self.pc.addTransceiver(kind, direction="recvonly")
        self.session_id = None
        self.answer = ""


def candidate_types(sdp: str) -> set[str]:
    return set(re.findall(r"a=candidate:\S+ \d+ \S+ \d+ \S+ \d+ typ (\w+)", sdp))


def selected_pair(viewer: Viewer):  # type: ignore[no-untyped-def]
    """The nominated candidate pair of the viewer's (bundled) ICE connection."""
    ice = viewer.pc.getTransceivers()[0].receiver.transport.transport
    nominated = ice._connection._nominated  # aioice: component -> CandidatePair
    return nominated.get(1)


async def test_a_viewer_with_relay_only_ice_plays_a_seat_through_coturn(relays: None, room: Room, coturn: str) -> None:
    client = AsyncClient()
    publisher = Publisher(0)
    viewer: Viewer | None = None
    with override_settings(TURN_URLS=[coturn], TURN_SECRET=SECRET, TURN_CREDENTIAL_TTL=600):
        try:
            await publish_via_whip(client, room, publisher)
            # The WHEP endpoint's OPTIONS carries the ICE servers before there is an offer (the
            # credentials must be known before gathering), as the page does it.
            options = await client.options(f"/rooms/{room.slug}/whep")
            servers = ice_servers_of(options["Link"])
            assert [s.urls for s in servers] == [coturn]
            expires, _, who = servers[0].username.partition(":")
            assert 590 <= int(expires) - time.time() <= 601
            assert who
            assert servers[0].credential == password_for(SECRET, servers[0].username)

            viewer = RelayedViewer(servers)
            offer = await viewer.offer()
            assert candidate_types(offer) == {"relay"}  # coturn allocated; nothing else offered
            watched = await client.post(f"/rooms/{room.slug}/whep", data=offer, content_type=SDP)
            assert watched.status_code == 201, watched.content
            # the 201 carries a credential of its own, for this session (labelled, not its id)
            session = watched["Location"].rsplit("/", 1)[-1]
            (again,) = ice_servers_of(watched["Link"])
            assert again.urls == coturn
            assert again.username.split(":", 1)[1].startswith("whep-")
            assert session not in again.username
            await viewer.accept(watched.content.decode())

            assert abs(await luma_of(viewer.track(0, "video"), within=10) - seat_level(0)) < 12
            pair = selected_pair(viewer)
            assert pair is not None
            assert pair.local_candidate.type == "relay"
            assert pair.local_candidate.host == "127.0.0.1"  # coturn's relay address
        finally:
            await publisher.close()
            if viewer is not None:
                await viewer.close()


@pytest.mark.parametrize("kind", ["forged", "expired"])
async def test_a_forged_or_expired_credential_gets_no_media(relays: None, room: Room, coturn: str, kind: str) -> None:
    client = AsyncClient()
    publisher = Publisher(0)
    if kind == "forged":
        good = credential_for(secret=SECRET, ttl=600, who="carol")
        username, credential = good.username, password_for("not-the-secret", good.username)
    else:  # the right secret, but it expired a minute ago
        old = credential_for(secret=SECRET, ttl=60, who="carol", now=time.time() - 120)
        username, credential = old.username, old.credential
    viewer = RelayedViewer([RTCIceServer(urls=coturn, username=username, credential=credential)])
    try:
        await publish_via_whip(client, room, publisher)
        offer = await viewer.offer()
        assert "typ relay" not in offer  # coturn refused the allocation
        watched = await client.post(f"/rooms/{room.slug}/whep", data=offer, content_type=SDP)
        if watched.status_code == 201:
            await viewer.accept(watched.content.decode())
            with pytest.raises(AssertionError):
                await wait_for(lambda: viewer.pc.connectionState == "connected", within=4, what="connected")
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(viewer.track(0, "video").recv(), 1)
        else:  # an offer with no candidate at all may be refused outright: no media either way
            assert watched.status_code == 400, watched.content
    finally:
        await publisher.close()
        await viewer.close()


@override_settings(
    MEDIA_ICE_SERVERS=["stun:stun.example.net:3478"],
    TURN_URLS=["turn:turn.example.net:3478?transport=udp", "turns:turn.example.net:443?transport=tcp"],
    TURN_SECRET=SECRET,
    TURN_CREDENTIAL_TTL=3600,
)
async def test_every_answer_gets_fresh_credentials_that_coturn_would_check(relays: None, room: Room) -> None:
    first = await AsyncClient().options(f"/rooms/{room.slug}/whep")
    second = await AsyncClient().options(f"/rooms/{room.slug}/whip")
    stun, udp, tls = ice_servers_of(first["Link"])
    assert (stun.urls, stun.username) == ("stun:stun.example.net:3478", None)
    assert (udp.urls, tls.urls) == (
        "turn:turn.example.net:3478?transport=udp",
        "turns:turn.example.net:443?transport=tcp",
    )
    assert udp.username == tls.username  # one credential per response, for each TURN URL
    assert 'credential-type="password"' in first["Link"]
    assert udp.credential == password_for(SECRET, udp.username)
    assert int(udp.username.split(":")[0]) - time.time() == pytest.approx(3600, abs=2)
    (_, other, _) = ice_servers_of(second["Link"])
    assert other.username != udp.username  # a credential is not shared between clients


def test_it_refuses_turn_settings_it_cannot_use() -> None:
    from django.core.exceptions import ImproperlyConfigured

    from media.ice import check_settings

    with (
        override_settings(TURN_URLS=["stun:turn.example.net"], TURN_SECRET=SECRET),
        pytest.raises(ImproperlyConfigured, match="TURN_URLS"),
    ):
        check_settings()
    with (
        override_settings(TURN_URLS=["turn:turn.example.net"], TURN_SECRET=""),
        pytest.raises(ImproperlyConfigured, match="TURN_SECRET"),
    ):
        check_settings()
