"""axe-core over every page people use (#13): no serious or critical violation, on a desktop and
on a phone, in English and French; the room by keyboard alone; comments announced in batches."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from comments.actions import post_comment
from rooms import seats
from rooms.models import Room
from tests.browser.conftest import open_room, page_as
from tests.browser.test_phone import PHONE, go_live_now

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Axe()
DESKTOP = {"width": 1100, "height": 900}


def assert_accessible(page: Any, what: str) -> None:
    results = AXE.run(page)
    bad = [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]][:5])
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert bad == [], f"{what}: {bad}"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_it_has_no_serious_violation_on_any_page(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, bob, carol, viewport: dict, locale: str
) -> None:
    post_comment(room=room, author=carol, text="a comment to read")
    seats.seat_user(room=room, user=bob, index=1)
    url = f"{server}/rooms/{room.slug}/"

    anonymous = page_as(browser, server, locale=locale, viewport=viewport)
    for path in ("/", "/accounts/login/", "/accounts/signup/", "/no/such/page/"):
        anonymous.goto(f"{server}{path}")
        assert_accessible(anonymous, path)
    open_room(anonymous, url)
    assert_accessible(anonymous, "room, signed out")

    host = page_as(browser, server, alice, locale=locale, viewport=viewport)
    host.goto(f"{server}/")
    assert_accessible(host, "home, signed in")
    open_room(host, url)
    go_live_now(host)
    host.click("#studio summary")
    assert_accessible(host, "room, host")

    guest = page_as(browser, server, bob, locale=locale, viewport=viewport)
    open_room(guest, url)
    assert_accessible(guest, "room, guest")

    viewer = page_as(browser, server, carol, locale=locale, viewport=viewport)
    open_room(viewer, url)
    host.click("#end-live")
    viewer.wait_for_selector("#recap-comments", timeout=10_000)
    assert_accessible(viewer, "ended, as it ends")
    viewer.goto(url)
    assert_accessible(viewer, "ended, a fresh visit")


def test_it_works_by_keyboard_alone(server: str, browser, room: Room, alice, carol) -> None:  # type: ignore[no-untyped-def]
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    viewer = page_as(browser, server, carol)
    open_room(viewer, f"{server}/rooms/{room.slug}/")

    def tab_to(page: Any, selector: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reaches {selector}")

    # the viewer: sound, a comment, a heart, asking to join — Tab, type, Enter
    tab_to(viewer, "#unmute")
    viewer.keyboard.press("Enter")
    assert viewer.evaluate("() => document.querySelector('.tile[data-seat=\"0\"] video').muted") is False
    tab_to(viewer, "#comment-text")
    viewer.keyboard.type("typed, not clicked")
    viewer.keyboard.press("Enter")
    host.wait_for_selector("#comments li >> text=typed, not clicked", timeout=5000)
    tab_to(viewer, "#heart")
    viewer.keyboard.press("Enter")
    tab_to(viewer, "#request-join")
    viewer.keyboard.press("Enter")
    host.wait_for_selector("#requests button", timeout=5000)

    # the host: invite from the list, go live, mute the mic, by keyboard
    tab_to(host, "#requests button")
    host.keyboard.press("Enter")
    viewer.wait_for_selector("#offer", state="visible", timeout=5000)
    tab_to(viewer, "#accept-offer")
    viewer.keyboard.press("Enter")
    viewer.wait_for_selector("#go-live:not([disabled])", timeout=5000)
    tab_to(viewer, "#go-live")
    viewer.keyboard.press("Enter")
    viewer.wait_for_selector("#room[data-publishing]", state="attached", timeout=20_000)
    tab_to(viewer, "#toggle-mic")
    viewer.keyboard.press("Space")
    viewer.wait_for_function("() => document.querySelector('#toggle-mic').getAttribute('aria-pressed') === 'false'")
    # the focus stays on the toggle, and shows where it is
    assert viewer.evaluate("() => document.activeElement.id") == "toggle-mic"
    outline = viewer.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_it_announces_new_comments_in_batches(server: str, browser, room: Room, alice, carol) -> None:  # type: ignore[no-untyped-def]
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    viewer = page_as(browser, server, carol)
    open_room(viewer, f"{server}/rooms/{room.slug}/")
    viewer.evaluate(
        """() => {
          window.announced = [];
          const region = document.querySelector('#comment-announcer');
          new MutationObserver(() => window.announced.push(region.textContent))
            .observe(region, {childList: true, characterData: true, subtree: true});
        }"""
    )
    assert viewer.get_attribute("#comment-announcer", "aria-live") == "polite"
    assert viewer.locator("[aria-live]").count() == 1  # the viewer count is not announced
    for n in range(5):  # the host is not rate-limited
        host.fill("#comment-text", f"comment {n}")
        host.press("#comment-text", "Enter")
        host.wait_for_selector(f"#comments li >> text=comment {n}", timeout=5000)
    viewer.wait_for_selector("#comments li >> text=comment 4", timeout=5000)
    viewer.wait_for_function("() => window.announced.length > 0", timeout=8000)
    viewer.wait_for_timeout(500)
    announced = viewer.evaluate("() => window.announced")
    assert len(announced) == 1, announced
    assert announced[0].startswith("5 new comments.")
    assert "@alice: comment 4" in announced[0]
