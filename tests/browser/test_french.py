"""The journeys in French (#13): a browser asking for French gets no English string on the page,
in the server's HTML or in what room.js writes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from rooms.models import Room
from tests.browser.conftest import ARTIFACTS, open_room, page_as
from tests.browser.test_journeys import wait_playing
from tests.browser.test_phone import PHONE

pytestmark = pytest.mark.django_db(transaction=True)

# What a person reads: the visible text, and the labels of what they can reach.
READABLE = """() => {
  const texts = [document.body.innerText, document.title];
  for (const node of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
    if (node.closest('[hidden]')) continue;
    for (const name of ['placeholder', 'aria-label', 'title']) texts.push(node.getAttribute(name) || '');
  }
  return texts.join('\\n');
}"""


def english_strings() -> list[str]:
    """Our English strings whose French differs (from locale/fr.py), as patterns of whole words."""
    spec = importlib.util.spec_from_file_location("french", Path(settings.BASE_DIR) / "locale" / "fr.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = []
    for english, french in module.FR.items():
        first = french[0] if isinstance(french, tuple) else french
        if first == english or "<" in english:
            continue
        # the fixed words around the placeholders, e.g. "Mute " and "'s mic" of "Mute %(name)s's mic"
        for part in re.split(r"%\(\w+\)\w", english):
            part = part.strip(" .:;?…")
            if len(part) >= 3 and part not in {"min"}:
                found.append(part)
    return found


ENGLISH = english_strings()


def assert_french(page: Any) -> None:
    text = page.evaluate(READABLE)
    left = [english for english in ENGLISH if re.search(rf"(?<![\w'@]){re.escape(english)}(?![\w'])", text)]
    assert left == [], f"English left on {page.url}: {left}\n---\n{text}"


def test_it_runs_the_journeys_in_french(server: str, browser, room: Room, alice, bob, carol) -> None:  # type: ignore[no-untyped-def]
    url = f"{server}/rooms/{room.slug}/"
    host = page_as(browser, server, alice, locale="fr-FR")
    open_room(host, url)
    assert host.locator("html").get_attribute("lang") == "fr"
    assert_french(host)
    host.click("#go-live:not([disabled])", timeout=5000)
    host.wait_for_selector("#room[data-publishing]", state="attached", timeout=20_000)
    assert host.locator("#publish-status").inner_text() == "Vous êtes en direct."

    viewer = page_as(browser, server, carol, locale="fr-FR", viewport=PHONE)
    open_room(viewer, url)
    wait_playing(viewer, 0)
    assert viewer.locator("#live-badge").inner_text() == "EN DIRECT"
    viewer.fill("#comment-text", "bonjour tout le monde")
    viewer.press("#comment-text", "Enter")
    viewer.wait_for_selector("#comments li >> text=bonjour tout le monde", timeout=5000)
    viewer.click("#request-join")
    viewer.wait_for_selector("#request-status:has-text('Demande envoyée')", timeout=5000)
    assert_french(viewer)
    ARTIFACTS.mkdir(exist_ok=True)
    viewer.screenshot(path=str(ARTIFACTS / "fr-phone-viewer.png"))

    # bob is invited, joins and goes live, all in French
    guest = page_as(browser, server, bob, locale="fr-FR", viewport=PHONE)
    open_room(guest, url)
    host.fill("#invite-name", "bob")
    host.press("#invite-name", "Enter")
    guest.wait_for_selector("#offer", state="visible", timeout=5000)
    assert_french(guest)
    guest.click("#accept-offer")
    guest.click("#go-live:not([disabled])", timeout=5000)
    guest.wait_for_selector("#room[data-publishing]", state="attached", timeout=20_000)
    guest.click("#studio summary")
    assert_french(guest)
    guest.screenshot(path=str(ARTIFACTS / "fr-phone-guest-live.png"))
    host.wait_for_selector(".tile[data-seat='1'] [data-act='mic-off']:has-text('Couper le micro de @bob')")
    assert_french(host)
    host.screenshot(path=str(ARTIFACTS / "fr-desktop-host.png"))

    host.click("#end-live")
    viewer.wait_for_selector("#recap-comments", timeout=10_000)
    assert_french(viewer)
    viewer.screenshot(path=str(ARTIFACTS / "fr-phone-ended.png"), full_page=True)


def test_it_shows_the_other_pages_in_french(server: str, browser, room: Room) -> None:  # type: ignore[no-untyped-def]
    page = page_as(browser, server, locale="fr-FR")
    for path in ("/", "/accounts/login/", "/accounts/signup/", "/no/such/page/", f"/rooms/{room.slug}/"):
        page.goto(f"{server}{path}")
        assert_french(page)
    # the switcher: back to English, and it stays so
    page.goto(f"{server}/")
    page.click("button[name=language][value=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("h1").first.inner_text() == "Go live"
    page.goto(f"{server}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "en"
