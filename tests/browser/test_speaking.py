"""Who is speaking on the room page (#18), in a real browser: the host goes live with Chromium's
fake microphone (a beep every half second, loud enough for the relay's audio-level reading), and
the viewers' pages ring the host's tile; with every camera off the grid is an audio room."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import make_user
from rooms import seats
from rooms.models import Room, Seat
from tests.browser.conftest import ARTIFACTS, open_room, page_as
from tests.browser.test_accessibility import DESKTOP, assert_accessible
from tests.browser.test_phone import PHONE, go_live_now

pytestmark = pytest.mark.django_db(transaction=True)

SPEAKING = ".tile[data-seat='{}'].speaking"
RING = """(seat) => {
  const tile = document.querySelector(`.tile[data-seat="${seat}"]`);
  const audio = tile.closest('#grid').dataset.layout === 'audio';
  return getComputedStyle(audio ? tile.querySelector('.avatar') : tile, audio ? null : '::after').boxShadow;
}"""
GREEN = "rgb(74, 222, 128)"


def speaking_frames(page: Any) -> list[list[int]]:
    """The `speaking` frames this page's websocket receives from now on (their seats)."""
    seen: list[list[int]] = []

    def on_socket(ws: Any) -> None:
        def on_frame(payload: Any) -> None:
            if isinstance(payload, str) and '"speaking"' in payload:
                frame = json.loads(payload)
                if frame["type"] == "speaking":
                    seen.append(frame["seats"])

        ws.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    return seen


def test_a_viewer_sees_the_host_speaking_from_the_fake_microphone(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, carol
) -> None:
    url = f"{server}/rooms/{room.slug}/"
    host = page_as(browser, server, alice)
    open_room(host, url)
    viewer = page_as(browser, server, carol)
    frames = speaking_frames(viewer)
    open_room(viewer, url)
    tile = viewer.locator(".tile[data-seat='0']")
    assert "speaking" not in tile.get_attribute("class")
    assert viewer.locator(".tile[data-seat='0'] .speaking-label").is_hidden()

    go_live_now(host)
    # the relay reads the beeps' audio level from the RTP header extension: the ring comes
    viewer.wait_for_selector(SPEAKING.format(0), timeout=5000)
    assert [0] in frames
    assert GREEN in viewer.evaluate(RING, 0)
    label = viewer.locator(".tile[data-seat='0'] .speaking-label")
    assert label.is_visible()
    assert label.inner_text() == "speaking"
    # in the tile's name for a screen reader, but never announced
    assert viewer.get_by_role("figure", name="@alice speaking").count() == 1
    assert label.evaluate("(node) => node.closest('[aria-live], [role=status], [role=alert], [role=log]')") is None
    # the host's own page shows it too
    host.wait_for_selector(SPEAKING.format(0), timeout=5000)

    # mic off: never speaking, on every page
    host.click("#toggle-mic")
    viewer.wait_for_selector(SPEAKING.format(0), state="detached", timeout=3000)
    assert viewer.locator(".tile[data-seat='0'] .speaking-label").is_hidden()
    viewer.wait_for_timeout(700)  # the relay's own word on it (at most 5 a second)
    assert frames[-1] == []
    # and back on: the beeps ring the tile again
    host.click("#toggle-mic")
    viewer.wait_for_selector(SPEAKING.format(0), timeout=5000)
    assert frames[-1] == [0]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_with_every_camera_off_the_room_is_an_audio_room(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, bob, carol, viewport: dict
) -> None:
    # bob and carol on stage from elsewhere (not publishing); bob's mic is off
    seats.seat_user(room=room, user=bob, index=1)
    seats.seat_user(room=room, user=carol, index=2)
    Seat.objects.filter(room=room, index__in=[1, 2]).update(camera=False)
    Seat.objects.filter(room=room, index=1).update(mic=False)
    dave = make_user("dave")
    url = f"{server}/rooms/{room.slug}/"
    host = page_as(browser, server, alice, viewport=viewport)
    open_room(host, url)
    viewer = page_as(browser, server, dave, viewport=viewport)
    open_room(viewer, url)
    french = page_as(browser, server, locale="fr-FR", viewport=viewport)
    open_room(french, url)

    go_live_now(host)
    viewer.wait_for_selector("#grid[data-layout='video'] .tile[data-seat='0'].has-video", timeout=10_000)
    viewer.wait_for_selector(SPEAKING.format(0), timeout=5000)
    assert viewer.locator(".tile[data-seat='0'] .avatar").is_hidden()  # the video shows

    # the host turns the camera off: no one sends video, the grid is an audio room
    host.click("#toggle-camera")
    for page in (viewer, french, host):
        page.wait_for_selector("#grid[data-layout='audio']", state="attached", timeout=3000)
        page.wait_for_selector(SPEAKING.format(0), timeout=5000)
    big = 7.5 * 16 if viewport is DESKTOP else 5.5 * 16
    for index, name in enumerate(["@alice", "@bob", "@carol"]):
        tile = viewer.locator(f".tile[data-seat='{index}']")
        avatar = tile.locator(".avatar").bounding_box()
        caption = tile.locator(".name")
        assert avatar["width"] >= big, (index, avatar)
        # the name under its avatar, all on screen
        assert caption.inner_text() == name
        label = caption.bounding_box()
        assert label["y"] >= avatar["y"] + avatar["height"] - 1, (label, avatar)
        assert avatar["x"] >= 0
        assert avatar["x"] + avatar["width"] <= viewport["width"]
        assert tile.locator(".cam-off").is_hidden()  # every camera is off: no need to say so
    # the speaking ring round the host's avatar; bob's mic-off mark; carol silent
    assert GREEN in viewer.evaluate(RING, 0)
    assert viewer.get_by_role("figure", name="@alice speaking").count() == 1
    assert viewer.locator(".tile[data-seat='1'] .mic-off").is_visible()
    mark = viewer.evaluate(
        "(s) => { const after = getComputedStyle(document.querySelector(s), '::after');"
        " return [after.content, after.backgroundImage, after.width]; }",
        ".tile[data-seat='1'] .avatar",
    )
    content, image, width = mark
    assert content == '""'
    assert "svg" in image
    assert width != "auto"
    assert viewer.locator(".tile[data-seat='2'].muted").count() == 0
    assert viewer.locator(".tile.speaking").count() == 1
    assert french.locator(".tile[data-seat='0'] .speaking-label").inner_text() == "parle"
    assert french.locator(".tile[data-seat='1'] .mic-off").inner_text() == "micro coupé"

    ARTIFACTS.mkdir(exist_ok=True)
    size = "phone" if viewport is PHONE else "desktop"
    viewer.screenshot(path=str(ARTIFACTS / f"speaking-audio-room-{size}.png"))
    host.screenshot(path=str(ARTIFACTS / f"speaking-audio-room-{size}-host.png"))
    french.screenshot(path=str(ARTIFACTS / f"speaking-audio-room-{size}-fr.png"))
    assert_accessible(viewer, "audio room, speaking")
    assert_accessible(french, "audio room, speaking, in French")
    assert_accessible(host, "audio room, the host's own page")

    # the camera back on: the video layout again, ring round the tile
    host.click("#toggle-camera")
    viewer.wait_for_selector("#grid[data-layout='video']", state="attached", timeout=10_000)
    viewer.wait_for_selector(SPEAKING.format(0), timeout=5000)
    assert GREEN in viewer.evaluate(RING, 0)
    viewer.screenshot(path=str(ARTIFACTS / f"speaking-video-{size}.png"))
    assert_accessible(viewer, "video, speaking")
