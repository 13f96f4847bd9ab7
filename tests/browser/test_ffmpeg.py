"""Going live from FFmpeg with what the studio shows, watched in Chromium.

The host's studio page shows a certificate command and an `ffmpeg` command line. The test runs the
certificate command as shown (openssl), and FFmpeg's own `whip` muxer (PyAV) with the URL, token,
certificate and encoder flags of the command line as shown; only the inputs differ: a flat grey
picture instead of the test pattern, so the viewer's picture can be checked. Then "New token"
cuts that stream off, and the old command line is refused.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from rooms.models import Room, Seat
from tests.browser.conftest import ARTIFACTS, open_room, page_as
from tests.browser.test_journeys import wait_playing
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
LEVEL = 170  # luma of FFmpeg's picture; Chromium shows it as grey (170 - 16) * 255 / 219 = 179
GREY = 179
PUBLISHER = [sys.executable, "-m", "tests.media.ffmpeg_publisher"]

MEAN_RED = """(seat) => {
  const video = document.querySelector(`.tile[data-seat="${seat}"] video`);
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 48;
  const context = canvas.getContext("2d");
  context.drawImage(video, 0, 0, 64, 48);
  const pixels = context.getImageData(0, 0, 64, 48).data;
  let sum = 0;
  for (let i = 0; i < pixels.length; i += 4) sum += pixels[i];
  return sum / (pixels.length / 4);
}"""


def ffmpeg(command: str, folder: Path, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*PUBLISHER, "--command", command, "--seconds", str(seconds), "--level", str(LEVEL)],
        cwd=folder,  # the command names whip.crt / whip.key relative to where it runs
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_ffmpeg_goes_live_with_the_studios_command_and_chromium_plays_it(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, carol, tmp_path: Path
) -> None:
    studio = page_as(browser, server, alice)
    open_room(studio, f"{server}/rooms/{room.slug}/")
    studio.click("#studio summary")
    studio.click("#reveal-token")  # the token is hidden until asked for
    cert_command = studio.inner_text("#cert-command")
    command = studio.inner_text("#ffmpeg-command")
    token = Seat.objects.get(room=room, index=0).publish_token
    assert command.startswith("ffmpeg ")
    assert f"-authorization {token} " in command
    assert command.endswith(f" {server}/rooms/{room.slug}/whip")
    assert studio.inner_text("#obs-settings").count(token) == 1
    ARTIFACTS.mkdir(exist_ok=True)
    studio.locator("#stage-controls").screenshot(path=str(ARTIFACTS / "studio-obs-ffmpeg.png"))

    subprocess.run(shlex.split(cert_command), cwd=tmp_path, check=True, capture_output=True)
    publisher = ffmpeg(command, tmp_path, seconds=120)
    try:
        wait_until(lambda: Seat.objects.get(room=room, index=0).publishing, 30, "FFmpeg publishing")
        viewer = page_as(browser, server, carol)
        open_room(viewer, f"{server}/rooms/{room.slug}/")
        wait_playing(viewer, 0, within=20)
        grey = viewer.evaluate(MEAN_RED, 0)
        assert abs(grey - GREY) < 15, grey
        viewer.screenshot(path=str(ARTIFACTS / "viewer-ffmpeg-seat.png"))

        # "New token": FFmpeg's stream (old token) ends, the viewer's tile goes back to the avatar
        studio.click("#rotate-token")
        studio.wait_for_selector("text=The old one no longer works.", timeout=5000)
        new_token = Seat.objects.get(room=room, index=0).publish_token
        assert new_token != token
        assert studio.inner_text("#ffmpeg-command") == command.replace(token, new_token)
        wait_until(lambda: not Seat.objects.get(room=room, index=0).publishing, 10, "the stream cut off")
        viewer.wait_for_function(
            "() => !document.querySelector('.tile[data-seat=\"0\"]').classList.contains('has-video')", timeout=5000
        )
    finally:
        publisher.kill()
        publisher.communicate()

    # the old command line is refused: FFmpeg fails, and the endpoint says 403
    refused = ffmpeg(command, tmp_path, seconds=2)
    _, stderr = refused.communicate(timeout=30)
    assert refused.returncode == 1, stderr
    request = urllib.request.Request(  # noqa: S310 - the test's own server
        f"{server}/rooms/{room.slug}/whip",
        data=b"v=0\r\n",
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
    )
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310 - the test's own server
    assert answer.value.code == 403
