"""The room on a phone (390 by 844): full-height video, comments over it, the comment box and ♥ at
the bottom; broadcasters' own controls are toggles on their tile (#13)."""

from __future__ import annotations

import pytest

from rooms import seats
from rooms.models import Room, Seat
from tests.browser.conftest import ARTIFACTS, open_room, page_as
from tests.browser.test_journeys import wait_playing

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def go_live_now(page) -> None:  # type: ignore[no-untyped-def]
    page.click("#go-live:not([disabled])", timeout=5000)
    page.wait_for_selector("#room[data-publishing]", state="attached", timeout=20_000)


def inside(inner: dict, outer: dict) -> bool:
    return (
        inner["x"] >= outer["x"] - 1
        and inner["y"] >= outer["y"] - 1
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
    )


def test_it_lets_a_phone_comment_while_the_video_keeps_playing(server: str, browser, room: Room, alice, carol) -> None:  # type: ignore[no-untyped-def]
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    go_live_now(host)

    viewer = page_as(browser, server, carol)
    viewer.set_viewport_size(PHONE)
    open_room(viewer, f"{server}/rooms/{room.slug}/")
    wait_playing(viewer, 0)
    screen = {"x": 0, "y": 0, **PHONE}
    viewer.fill("#comment-text", "hello from the sofa")
    viewer.press("#comment-text", "Enter")
    comment = viewer.locator("#comments li", has_text="hello from the sofa")
    comment.wait_for(timeout=5000)
    wait_playing(viewer, 0, within=3)  # the video kept playing

    video = viewer.locator('.tile[data-seat="0"]').bounding_box()
    said = comment.bounding_box()
    form = viewer.locator("#comment-form").bounding_box()
    heart = viewer.locator("#heart").bounding_box()
    # the video fills the screen between the header and the comment box; the comment is over it
    assert video["width"] >= 385, video
    assert video["height"] >= 600, video
    assert inside(said, video), (said, video)
    assert inside(said, screen), said
    # the comment box and ♥ sit at the bottom, on screen, below the video
    assert inside(form, screen), form
    assert form["y"] + form["height"] >= PHONE["height"] - 2, form
    assert inside(heart, form)
    assert form["y"] >= video["y"] + video["height"] - 2
    ARTIFACTS.mkdir(exist_ok=True)
    viewer.screenshot(path=str(ARTIFACTS / "phone-viewer-commenting.png"))


def test_it_puts_the_broadcasters_toggles_on_their_tile(server: str, browser, room: Room, alice, bob, carol) -> None:  # type: ignore[no-untyped-def]
    seats.seat_user(room=room, user=bob, index=1)
    host = page_as(browser, server, alice)
    host.set_viewport_size(PHONE)
    open_room(host, f"{server}/rooms/{room.slug}/")
    # the host's own controls are on the host's tile, as toggles that say their state
    own = host.locator('.tile[data-seat="0"] #own-tools')
    assert own.is_visible()
    mic = host.locator('.tile[data-seat="0"] #toggle-mic')
    assert mic.get_attribute("aria-pressed") == "true"
    assert host.locator('.tile[data-seat="0"] #end-live').is_visible()
    assert host.locator('.tile[data-seat="0"] #go-live').is_visible()
    mic.click()
    host.wait_for_function("() => document.querySelector('#toggle-mic').getAttribute('aria-pressed') === 'false'")
    assert mic.inner_text() == "Mic"  # a state, not a verb
    assert Seat.objects.get(room=room, index=0).mic is False

    # the host's controls for a guest are named for the guest
    guest_tile = host.locator('.tile[data-seat="1"]')
    mute = guest_tile.get_by_role("button", name="Mute @bob's mic")
    assert mute.is_visible()
    assert guest_tile.get_by_role("button", name="Remove @bob from the stage").is_visible()
    mute.click()
    host.wait_for_selector('.tile[data-seat="1"] .mic-off', state="visible", timeout=3000)
    assert Seat.objects.get(room=room, index=1).mic is False
    host.screenshot(path=str(ARTIFACTS / "phone-host-tiles.png"))

    # the guest's page: leave on the guest's tile, no end
    guest = page_as(browser, server, bob)
    guest.set_viewport_size(PHONE)
    open_room(guest, f"{server}/rooms/{room.slug}/")
    assert guest.locator('.tile[data-seat="1"] #leave').is_visible()
    assert guest.locator("#end-live").is_hidden()
    assert guest.locator('.tile[data-seat="1"] #toggle-mic').get_attribute("aria-pressed") == "false"
