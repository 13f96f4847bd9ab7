"""An audio-only stream from FFmpeg (`-vn`, as OBS sends with audio only) in a real browser: the
viewers' grid is an audio room (the host's camera reads off, so nobody sends video), the host's own
page cannot turn on a camera that sends nothing; FFmpeg with video again, and the picture plays."""

from __future__ import annotations

from pathlib import Path

import pytest

from rooms.models import Room, Seat
from tests.browser.conftest import ARTIFACTS, open_room, page_as
from tests.browser.test_accessibility import DESKTOP
from tests.browser.test_journeys import wait_playing
from tests.browser.test_phone import PHONE
from tests.media.certificates import p256_certificate
from tests.media.test_audio_only import ffmpeg_whip, finished
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_audio_only_ffmpeg_makes_an_audio_room_and_video_brings_the_picture(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, carol, tmp_path: Path, viewport: dict
) -> None:
    cert, key = p256_certificate(tmp_path)
    token = Seat.objects.get(room=room, index=0).publish_token
    url, whip = f"{server}/rooms/{room.slug}/", f"{server}/rooms/{room.slug}/whip"
    viewer = page_as(browser, server, carol, viewport=viewport)
    open_room(viewer, url)
    host = page_as(browser, server, alice, viewport=viewport)
    open_room(host, url)
    size = "phone" if viewport is PHONE else "desktop"

    audio = ffmpeg_whip(whip, token, cert, key, video=False, seconds=60)
    try:
        wait_until(lambda: Seat.objects.get(room=room, index=0).publishing, 30, "FFmpeg publishing")
        viewer.wait_for_selector("#grid[data-layout='audio']", state="attached", timeout=5000)
        tile = viewer.locator(".tile[data-seat='0']")
        assert "has-video" not in tile.get_attribute("class")
        assert tile.locator(".avatar").is_visible()
        assert tile.locator(".name").inner_text() == "@alice"
        assert viewer.locator("#live-badge").inner_text() == "LIVE"
        # the host's page: the camera reads off and cannot be turned on (nothing would come)
        camera = host.locator("#toggle-camera")
        host.wait_for_selector("#toggle-camera[aria-pressed='false'][disabled]", state="attached", timeout=5000)
        assert "no video" in camera.get_attribute("title")
        ARTIFACTS.mkdir(exist_ok=True)
        viewer.screenshot(path=str(ARTIFACTS / f"audio-only-ffmpeg-{size}.png"))
        host.screenshot(path=str(ARTIFACTS / f"audio-only-ffmpeg-{size}-host.png"))
    finally:
        audio.terminate()  # FFmpeg stops as on `q`: it DELETEs its session
        finished(audio)
    wait_until(lambda: not Seat.objects.get(room=room, index=0).publishing, 30, "the audio stream gone")

    picture = ffmpeg_whip(whip, token, cert, key, video=True, seconds=60)
    try:
        viewer.wait_for_selector("#grid[data-layout='video']", state="attached", timeout=30_000)
        wait_playing(viewer, 0, within=20)
        assert host.locator("#toggle-camera").is_enabled()
        assert host.locator("#toggle-camera").get_attribute("aria-pressed") == "true"
        viewer.screenshot(path=str(ARTIFACTS / f"audio-only-ffmpeg-{size}-then-video.png"))
    finally:
        picture.kill()
        finished(picture)
