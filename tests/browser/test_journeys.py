"""What people do on the room page, in a real browser."""

from __future__ import annotations

import pytest
from django.conf import global_settings
from django.test import override_settings

from comments.models import Comment
from conftest import PASSWORD
from rooms.models import Room, Seat
from tests.browser.conftest import ARTIFACTS, open_room, page_as

pytestmark = pytest.mark.django_db(transaction=True)

PLAYING = """(tile) => {
  const video = document.querySelector(`.tile[data-seat="${tile}"] video`);
  return new Promise((resolve) => {
    const first = video.currentTime;
    setTimeout(() => resolve(video.videoWidth > 0 && video.currentTime > first && !video.closest('.tile').hidden), 700);
  });
}"""


def wait_playing(page, seat: int, within: float = 20) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        f"() => document.querySelector('.tile[data-seat=\"{seat}\"]').classList.contains('has-video')",
        timeout=within * 1000,
    )
    for _ in range(int(within / 0.7)):
        if page.evaluate(PLAYING, seat):
            return
    raise AssertionError(f"seat {seat} is not playing")


def go_live(page) -> None:  # type: ignore[no-untyped-def]
    """Press Go live on the room page and wait until the seat publishes over WHIP."""
    page.click("#go-live")
    page.wait_for_selector("text=You are live.", timeout=20_000)


def test_a_host_goes_live_and_a_viewer_watches(server: str, browser, room: Room, alice, carol) -> None:  # type: ignore[no-untyped-def]
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    go_live(host)

    viewer = page_as(browser, server, carol)
    open_room(viewer, f"{server}/rooms/{room.slug}/")
    wait_playing(viewer, 0)
    # no sound before a gesture: the tiles start muted
    assert viewer.evaluate("() => document.querySelector('.tile[data-seat=\"0\"] video').muted") is True
    viewer.click("#unmute")
    assert viewer.evaluate("() => document.querySelector('.tile[data-seat=\"0\"] video').muted") is False

    # camera off: the viewer's tile shows the avatar within a second; back on: video again
    host.click("#toggle-camera")
    viewer.wait_for_function(
        "() => !document.querySelector('.tile[data-seat=\"0\"]').classList.contains('has-video')", timeout=1000
    )
    assert viewer.is_visible('.tile[data-seat="0"] .avatar')
    host.click("#toggle-camera")
    wait_playing(viewer, 0, within=2)
    # mic off: the badge shows
    host.click("#toggle-mic")
    viewer.wait_for_selector('.tile[data-seat="0"] .mic-off', state="visible", timeout=2000)
    assert Seat.objects.get(room=room, index=0).mic is False

    ARTIFACTS.mkdir(exist_ok=True)
    viewer.screenshot(path=str(ARTIFACTS / "viewer-host-live-mic-off.png"))


def test_comments_show_as_text_and_a_moderators_removal_reaches_every_page(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, carol, mod
) -> None:
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    viewer = page_as(browser, server, carol)
    open_room(viewer, f"{server}/rooms/{room.slug}/")
    alerts: list[str] = []
    for page in (host, viewer):
        page.on("dialog", lambda dialog: alerts.append(dialog.message))
    viewer.fill("#comment-text", "<img src=x onerror=alert(1)>")
    viewer.press("#comment-text", "Enter")
    host.wait_for_selector("#comments li >> text=<img src=x onerror=alert(1)>", timeout=5000)
    assert host.locator("#comments img").count() == 0
    assert alerts == []

    comment = Comment.objects.get(room=room)
    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):
        mod.set_password(PASSWORD)  # the server checks it with the production hashers
        mod.save(update_fields=["password"])
    moderator = page_as(browser, server)
    moderator.goto(f"{server}/admin/login/?next=/admin/comments/comment/")
    moderator.fill("#id_username", "mod")
    moderator.fill("#id_password", PASSWORD)
    moderator.click("input[type=submit]")
    moderator.check(f'input[name="_selected_action"][value="{comment.pk}"]')
    moderator.select_option('select[name="action"]', "remove_selected")
    moderator.click('button[name="index"]')
    moderator.wait_for_selector("text=Removed 1 comment(s).")
    for page in (host, viewer):
        page.wait_for_selector(f'#comments li[data-id="{comment.pk}"]', state="detached", timeout=5000)


def test_the_host_ends_the_live_and_every_page_shows_it(server: str, browser, room: Room, alice, carol) -> None:  # type: ignore[no-untyped-def]
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    go_live(host)
    viewer = page_as(browser, server, carol)
    open_room(viewer, f"{server}/rooms/{room.slug}/")
    viewer.wait_for_selector("#host-panel", state="hidden")
    wait_playing(viewer, 0)
    host.click("#end-live")
    for page in (host, viewer):
        page.wait_for_selector("#ended", state="visible", timeout=5000)
        # the media stops: no tile keeps a stream
        assert page.evaluate("() => [...document.querySelectorAll('.tile video')].every((v) => v.srcObject === null)")
    room.refresh_from_db()
    assert room.status == "ended"
    assert not Seat.objects.filter(room=room, publishing=True).exists()


def test_a_viewer_asks_to_join_and_goes_live_beside_the_host(server: str, browser, room: Room, alice, bob) -> None:  # type: ignore[no-untyped-def]
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    go_live(host)

    guest = page_as(browser, server, bob)
    open_room(guest, f"{server}/rooms/{room.slug}/")
    guest.click("#request-join")
    host.click("#requests >> text=Invite")
    guest.click("#accept-offer")
    guest.wait_for_selector("#stage-controls", state="visible", timeout=5000)
    guest.wait_for_function("() => document.querySelector('#whip-token').textContent.length > 10", timeout=5000)
    go_live(guest)
    guest.click("#toggle-mic")

    viewer = page_as(browser, server)
    open_room(viewer, f"{server}/rooms/{room.slug}/")
    wait_playing(viewer, 0)
    wait_playing(viewer, 1)
    viewer.wait_for_selector('.tile[data-seat="1"] .mic-off', state="visible", timeout=3000)
    assert viewer.locator(".tile:visible").count() == 2
    ARTIFACTS.mkdir(exist_ok=True)
    viewer.screenshot(path=str(ARTIFACTS / "viewer-two-tiles-mic-off.png"))
    # a phone-sized screen stacks the two tiles and keeps both playing
    viewer.set_viewport_size({"width": 390, "height": 844})
    wait_playing(viewer, 1, within=3)
    boxes = [viewer.locator(f'.tile[data-seat="{n}"]').bounding_box() for n in (0, 1)]
    assert boxes[1]["y"] > boxes[0]["y"]
    assert all(box["width"] <= 390 for box in boxes)
    viewer.screenshot(path=str(ARTIFACTS / "viewer-phone.png"))
