"""FFmpeg's own WHIP muxer (PyAV 18 / FFmpeg 8) publishing to the relay: H.264 + Opus in, decoded
pictures out at aiortc viewers of either codec; and the P-224 DTLS failure explained in the log."""

from __future__ import annotations

import asyncio
import logging
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from channels.db import database_sync_to_async
from django.db import connection

from media.relay import RoomRelay
from rooms.models import Room, Seat
from rooms.seats import rotate_publish_token
from tests.media.certificates import p256_certificate
from tests.media.peers import Viewer, luma_of, next_frame, wait_for
from tests.media.whip_front import whip_front
from tests.servers import daphne

TOKEN = "ffmpeg-test-token"
LEVEL = 170  # FFmpeg's picture: a luma no aiortc test publisher uses
TOLERANCE = 12
ROOT = Path(__file__).resolve().parents[2]


async def start_ffmpeg(url: str, *args: str, seconds: float = 8) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.media.ffmpeg_publisher",
        url,
        "--seconds",
        str(seconds),
        "--level",
        str(LEVEL),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )


async def finish(process: asyncio.subprocess.Process, within: float = 30) -> tuple[int, str]:
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        _, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stderr.decode(errors="replace")


async def test_ffmpeg_publishes_h264_and_opus_that_every_viewer_decodes(relay: RoomRelay, tmp_path: Path) -> None:
    cert, key = p256_certificate(tmp_path)
    vp8_viewer, h264_viewer = Viewer(4, video_codec="video/VP8"), Viewer(1, video_codec="video/H264")
    try:
        await vp8_viewer.start(relay)
        await h264_viewer.start(relay)
        async with whip_front(relay, TOKEN) as url:
            ffmpeg = await start_ffmpeg(url, "--token", TOKEN, "--cert", str(cert), "--key", str(key))
            try:
                await wait_for(lambda: relay.is_publishing(0), within=20, what="FFmpeg publishing")
                for viewer in (vp8_viewer, h264_viewer):
                    assert abs(await luma_of(viewer.track(0, "video"), frames=5, within=10) - LEVEL) < TOLERANCE
                    sound = await next_frame(viewer.track(0, "audio"))
                    assert isinstance(sound, av.AudioFrame)
                    assert sound.sample_rate == 48000
                assert list(relay._seats[0].transcoders) == ["vp8"]  # once for the VP8 viewer
            finally:
                status, stderr = await finish(ffmpeg)
            assert status == 0, stderr
            await wait_for(lambda: not relay.is_publishing(0), within=5, what="FFmpeg's DELETE")
    finally:
        await vp8_viewer.close()
        await h264_viewer.close()


async def test_ffmpeg_with_its_own_p224_certificate_is_told_what_to_do(
    relay: RoomRelay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="media.relay")
    async with whip_front(relay, TOKEN) as url:
        status, stderr = await finish(await start_ffmpeg(url, "--token", TOKEN, seconds=2))
    assert status == 1, stderr
    failures = [r.getMessage() for r in caplog.records if "could not connect" in r.getMessage()]
    assert failures, caplog.text
    assert "secp224r1" in failures[0]
    assert "-cert_file" in failures[0]
    assert "P-256" in failures[0]
    assert relay.session_count() == 0


@pytest.fixture
def server(transactional_db: None) -> Iterator[str]:
    """daphne serving the app on the test database."""
    with daphne(connection.settings_dict) as served:
        yield served.url


def _post_sdp(url: str, sdp: str) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 - the test's own server
        url, data=sdp.encode(), headers={"Content-Type": "application/sdp"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        return response.status, response.read().decode()


@pytest.mark.django_db(transaction=True)
async def test_ffmpeg_publishes_to_a_seat_of_the_real_server_with_its_token(
    server: str, room: Room, tmp_path: Path
) -> None:
    """daphne serving the app; FFmpeg with the seat's bearer token; an aiortc WHEP viewer over HTTP."""
    cert, key = p256_certificate(tmp_path)
    token = await database_sync_to_async(lambda: Seat.objects.get(room=room, index=0).publish_token)()
    assert token
    whip, whep = f"{server}/rooms/{room.slug}/whip", f"{server}/rooms/{room.slug}/whep"
    viewer = Viewer(1)
    publisher = await start_ffmpeg(whip, "--token", token, "--cert", str(cert), "--key", str(key), seconds=60)
    try:
        publishing = lambda: Seat.objects.get(room=room, index=0).publishing  # noqa: E731
        for _ in range(300):
            if await database_sync_to_async(publishing)() or publisher.returncode is not None:
                break
            await asyncio.sleep(0.1)
        if not await database_sync_to_async(publishing)():
            status, stderr = await finish(publisher, within=0)
            raise AssertionError(f"FFmpeg never published (exit {status}):\n{stderr[-2000:]}")
        status, answer = await asyncio.to_thread(_post_sdp, whep, await viewer.offer())
        assert status == 201
        await viewer.accept(answer)
        assert abs(await luma_of(viewer.track(0, "video"), frames=5, within=10) - LEVEL) < TOLERANCE
        assert isinstance(await next_frame(viewer.track(0, "audio")), av.AudioFrame)
    finally:
        if publisher.returncode is None:
            publisher.kill()
            await publisher.communicate()
        await viewer.close()

    # a replaced token is refused: FFmpeg's POST gets 403 and it gives up
    await database_sync_to_async(rotate_publish_token)(room=room, user=room.host)
    status, stderr = await finish(await start_ffmpeg(whip, "--token", token, "--cert", str(cert), "--key", str(key)))
    assert status == 1, stderr
