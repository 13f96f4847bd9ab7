"""A publisher that sends no video (OBS with audio only, `ffmpeg -vn`) shows as camera off on every
screen, and its camera follows once it publishes with video again (unless its holder turned it off).

Real aiortc publishers through the WHIP view with room sockets watching; then the real `ffmpeg`
of imageio-ffmpeg (FFmpeg 8+, its own `whip` muxer) against a daphne serving the app, watched by
a viewer's websocket on that server."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
import websockets
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.db import connection
from django.test import AsyncClient, Client

from media import services
from media.audio_only import sends_video
from rooms.models import Room, Seat
from tests.media.certificates import p256_certificate
from tests.media.peers import Publisher, publish_via_whip, token_of
from tests.servers import daphne
from tests.sockets import Peer, join

pytestmark = pytest.mark.django_db(transaction=True)


async def publish(client: AsyncClient, room: Room, publisher: Publisher) -> str:
    """Publish through the WHIP view; the session's URL (DELETE it to stop)."""
    return str((await publish_via_whip(client, room, publisher))["Location"])


async def next_seat(tab: Peer, index: int = 0) -> dict[str, Any]:
    """The next `seat.updated` of seat `index` this socket receives."""
    while True:
        frame = await tab.recv("seat.updated", "speaking", wait=10)
        if frame["type"] == "seat.updated" and frame["seat"]["index"] == index:
            return dict(frame["seat"])


async def seat_until(tab: Peer, index: int, **wanted: Any) -> dict[str, Any]:
    while True:
        seat = await next_seat(tab, index)
        if all(seat.get(key) == value for key, value in wanted.items()):
            return seat


async def test_an_audio_only_publisher_is_camera_off_everywhere_until_it_sends_video(
    relays: None, room: Room, alice: User, carol: User
) -> None:
    viewer, host = await join(room, carol), await join(room, alice)
    client = AsyncClient()
    voice, camera = Publisher(0, video=False), Publisher(0)
    try:
        session = await publish(client, room, voice)
        # the server turns the camera off as it answers: before the media even flows
        seat = await next_seat(viewer)
        assert (seat["camera"], seat.get("audio_only"), seat["publishing"]) == (False, True, False)
        seat = await seat_until(viewer, 0, publishing=True)
        assert seat["camera"] is False
        assert seat["audio_only"] is True
        # the room page, as the server renders it, says so too
        page = (await database_sync_to_async(Client().get)(f"/rooms/{room.slug}/")).content.decode()
        tile = page[page.index('<figure class="tile" data-seat="0"') :]
        assert '<span class="badge cam-off">' in tile[: tile.index("</figure>")]

        # the owner cannot turn on a camera that sends nothing: refused, nothing published
        refused = await host.ask("seat.set", camera=True)
        assert refused["type"] == "error"
        assert refused["code"] == "forbidden"
        assert "no video" in refused["message"]
        await viewer.nothing_more()

        # the same seat publishes again, with video: the camera comes back on for everyone
        assert (await client.delete(session)).status_code == 204
        seat = await seat_until(viewer, 0, publishing=False)
        assert seat["camera"] is False  # still the audio-only stream's until one sends video
        await publish(client, room, camera)
        seat = await next_seat(viewer)
        assert seat["camera"] is True
        assert "audio_only" not in seat
        await seat_until(viewer, 0, publishing=True, camera=True)
        media = services.media_of(room.pk)
        assert media is not None
        assert media.relay.forwarding(0)["video"] is True
    finally:
        await voice.close()
        await camera.close()
        await viewer.close()
        await host.close()


async def test_a_camera_its_owner_turned_off_stays_off_when_video_comes_back(
    relays: None, room: Room, alice: User, carol: User
) -> None:
    viewer, host = await join(room, carol), await join(room, alice)
    client = AsyncClient()
    voice, camera = Publisher(0, video=False), Publisher(0)
    try:
        session = await publish(client, room, voice)
        await seat_until(viewer, 0, publishing=True, audio_only=True)
        assert (await host.ask("seat.set", camera=False))["type"] == "ack"  # her own choice, noted
        assert (await client.delete(session)).status_code == 204
        await seat_until(viewer, 0, publishing=False)
        await publish(client, room, camera)
        seat = await next_seat(viewer)
        assert "audio_only" not in seat
        assert seat["camera"] is False  # video flows, but her camera stays off
        seat = await seat_until(viewer, 0, publishing=True)
        assert seat["camera"] is False
        media = services.media_of(room.pk)
        assert media is not None
        assert media.relay.forwarding(0)["video"] is False  # and not one frame of it is forwarded
    finally:
        await voice.close()
        await camera.close()
        await viewer.close()
        await host.close()


async def test_an_offer_whose_only_video_has_no_codec_we_take_sends_no_video() -> None:
    with_video, voice_only = Publisher(0), Publisher(0, video=False)
    try:
        offer = await with_video.offer()
        assert sends_video(offer) is True
        assert sends_video(await voice_only.offer()) is False
        # VP9 / H.265 only: the relay answers the video m-line as rejected, so no video comes
        other = offer.replace("VP8/90000", "VP9/90000").replace("H264/90000", "H265/90000")
        assert sends_video(other) is False
    finally:
        await with_video.close()
        await voice_only.close()


# -- the real FFmpeg ------------------------------------------------------------------------


def ffmpeg_whip(url: str, token: str, cert: Path, key: Path, *, video: bool, seconds: float) -> subprocess.Popen[bytes]:
    """imageio-ffmpeg's ffmpeg publishing a test picture and a tone to `url` with its own WHIP
    muxer; `video=False` drops the picture with `-vn`, as an audio-only stream is made."""
    encode = ["-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast", "-tune", "zerolatency"]
    encode += ["-g", "30", "-bf", "0", "-pix_fmt", "yuv420p"]
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "warning",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=30",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        str(seconds),
        *(encode if video else ["-vn"]),
        "-c:a",
        "libopus",
        "-ar",
        "48000",
        "-ac",
        "2",
        "-f",
        "whip",
        "-authorization",
        token,
        "-cert_file",
        str(cert),
        "-key_file",
        str(key),
        "-handshake_timeout",
        "10000",
        url,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finished(process: subprocess.Popen[bytes], within: float = 30) -> tuple[int, str]:
    try:
        _, stderr = process.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return process.returncode, stderr.decode(errors="replace")


@pytest.fixture
def server(transactional_db: None) -> Iterator[str]:
    with daphne(connection.settings_dict) as served:
        yield served.url


class Tab:
    """A viewer's websocket on the server."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def seat(self, index: int = 0, within: float = 30, **wanted: Any) -> dict[str, Any]:
        """The next `seat.updated` of seat `index` with every field in `wanted`."""
        async with asyncio.timeout(within):
            while True:
                frame = json.loads(await self.socket.recv())
                if frame["type"] != "seat.updated" or frame["seat"]["index"] != index:
                    continue
                seat = dict(frame["seat"])
                if all(seat.get(key) == value for key, value in wanted.items()):
                    return seat


async def test_ffmpeg_with_no_video_is_camera_off_for_a_viewer_then_video_turns_it_on(
    server: str, room: Room, tmp_path: Path
) -> None:
    cert, key = p256_certificate(tmp_path)
    token = await database_sync_to_async(token_of)(room, 0)
    whip = f"{server}/rooms/{room.slug}/whip"
    ws_url = server.replace("http://", "ws://") + f"/ws/rooms/{room.slug}/"
    async with websockets.connect(ws_url, origin=server) as socket:
        state = json.loads(await socket.recv())
        assert state["type"] == "room.state"
        assert state["seats"][0]["camera"] is True
        tab = Tab(socket)

        audio = await asyncio.to_thread(ffmpeg_whip, whip, token, cert, key, video=False, seconds=8)
        try:
            seat = await tab.seat(publishing=True)
            assert seat["camera"] is False, seat
            assert seat["audio_only"] is True
            stored = await database_sync_to_async(Seat.objects.get)(room=room, index=0)
            assert (stored.audio_only, stored.camera_shown) == (True, False)
        finally:
            status, stderr = await asyncio.to_thread(finished, audio)
        assert status == 0, stderr
        await tab.seat(publishing=False)  # FFmpeg's DELETE at the end

        # the same seat from FFmpeg with video: the camera follows
        picture = await asyncio.to_thread(ffmpeg_whip, whip, token, cert, key, video=True, seconds=30)
        try:
            seat = await tab.seat(camera=True)
            assert "audio_only" not in seat
            seat = await tab.seat(publishing=True)
            assert seat["camera"] is True
        finally:
            picture.kill()
            await asyncio.to_thread(finished, picture)
