"""WHEP for players we did not write: CORS from another origin, OPTIONS, ICE servers in `Link`
headers, one audio + one video gets seat 0, and an offer without a usable codec says which."""

from __future__ import annotations

import re

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient, override_settings

from media.ice import link_headers
from rooms.models import Room
from tests.media.peers import Publisher, Viewer, luma_of, publish_via_whip, seat_level

pytestmark = pytest.mark.django_db(transaction=True)
SDP = "application/sdp"
PLAYER = "https://player.example"


async def test_it_answers_a_preflight_from_another_origin(relays: None, room: Room) -> None:
    client = AsyncClient()
    for endpoint in ("whep", "whip"):
        response = await client.options(
            f"/rooms/{room.slug}/{endpoint}",
            headers={
                "Origin": PLAYER,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, authorization",
            },
        )
        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response["Access-Control-Allow-Methods"]
        allowed_headers = response["Access-Control-Allow-Headers"].lower()
        assert "content-type" in allowed_headers
        assert "authorization" in allowed_headers
        assert response["Accept-Post"] == SDP
        assert "Link" not in response  # no ICE servers configured
    session = await client.options(f"/rooms/{room.slug}/whep/some-session", headers={"Origin": PLAYER})
    assert session.status_code == 204
    assert "DELETE" in session["Access-Control-Allow-Methods"]
    # trickle ICE (PATCH) is not offered: the answer carries every candidate
    patched = await client.patch(f"/rooms/{room.slug}/whep/some-session", data="a=end-of-candidates")
    assert patched.status_code == 405
    assert patched["Access-Control-Allow-Origin"] == "*"


@override_settings(
    MEDIA_ICE_SERVERS=["stun:stun.example.net:3478", "turn:turn.example.net:3478?transport=udp"],
    MEDIA_TURN_USERNAME="relay",
    MEDIA_TURN_CREDENTIAL='se"cret',
)
async def test_it_announces_the_ice_servers_in_link_headers(relays: None, room: Room) -> None:
    response = await AsyncClient().options(f"/rooms/{room.slug}/whep", headers={"Origin": PLAYER})
    links = response["Link"]
    assert '<stun:stun.example.net:3478>; rel="ice-server"' in links
    assert (
        '<turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="relay"; '
        'credential="se\\"cret"; credential-type="password"'
    ) in links
    assert link_headers() == [part.strip() for part in re.split(r",\s*(?=<)", links)]


async def test_a_plain_player_on_another_origin_watches_seat_0(relays: None, room: Room, bob) -> None:  # type: ignore[no-untyped-def]
    from rooms import seats

    await database_sync_to_async(seats.seat_user)(room=room, user=bob, index=1)
    client = AsyncClient()
    guest, host, player = Publisher(1), Publisher(0), Viewer(1)
    try:
        for publisher in (guest, host):  # seat 1 first, so "the first publisher" would be wrong
            await publish_via_whip(client, room, publisher)

        watched = await client.post(
            f"/rooms/{room.slug}/whep", data=await player.offer(), content_type=SDP, headers={"Origin": PLAYER}
        )
        assert watched.status_code == 201, watched.content
        assert watched["Access-Control-Allow-Origin"] == "*"
        exposed = watched["Access-Control-Expose-Headers"]
        assert "Location" in exposed
        assert "Link" in exposed
        assert "a=msid:seat-0 " in watched.content.decode()
        await player.accept(watched.content.decode())
        assert abs(await luma_of(player.track(0, "video")) - seat_level(0)) < 12

        ended = await client.delete(watched["Location"], headers={"Origin": PLAYER})
        assert ended.status_code == 204
        assert ended["Access-Control-Allow-Origin"] == "*"
    finally:
        for peer in (guest, host, player):
            await peer.close()


def _rename_codec(sdp: str, name: str, to: str) -> str:
    return re.sub(rf"(a=rtpmap:\d+ ){name}/", rf"\g<1>{to}/", sdp)


async def test_an_offer_without_a_usable_codec_gets_400_naming_it(relays: None, room: Room) -> None:
    client = AsyncClient()
    viewer = Viewer(1)
    try:
        offer = await viewer.offer()
        for codec in ("VP8", "H264", "opus"):
            offer = _rename_codec(offer, codec, "X-UNKNOWN")
        response = await client.post(f"/rooms/{room.slug}/whep", data=offer, content_type=SDP)
        assert response.status_code == 400
        message = response.content.decode()
        assert "Opus audio" in message
        assert "VP8" in message
        assert "H.264" in message
        assert response["Access-Control-Allow-Origin"] == "*"
    finally:
        await viewer.close()


def test_it_refuses_ice_servers_it_cannot_use() -> None:
    from django.core.exceptions import ImproperlyConfigured

    from media.ice import check_settings

    with override_settings(MEDIA_ICE_SERVERS=["https://stun.example.net"]), pytest.raises(ImproperlyConfigured):
        check_settings()
    with (
        override_settings(MEDIA_ICE_SERVERS=["turn:turn.example.net"], MEDIA_TURN_USERNAME=""),
        pytest.raises(ImproperlyConfigured, match="MEDIA_TURN_USERNAME"),
    ):
        check_settings()
