"""The live room's "REC" indicator and the host's recording switch (#17): the host turns recording
off the moment the button appears, and a viewer's open page loses the indicator at once; on again,
it comes back. On a phone (390 x 844) both fit."""

from __future__ import annotations

import pytest
from django.utils import timezone

from media.models import Replay
from rooms.models import Room
from tests.browser.conftest import ARTIFACTS, open_room, page_as
from tests.browser.test_phone import PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def fits_the_width(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_host_turns_recording_off_and_on_and_a_viewer_sees_it(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, carol
) -> None:
    url = f"{server}/rooms/{room.slug}/"
    viewer = page_as(browser, server, carol, locale="fr-FR", viewport=PHONE)
    open_room(viewer, url)
    badge = viewer.locator("#rec-badge")
    badge.wait_for(state="visible", timeout=3000)
    assert badge.get_attribute("aria-label") == "Ce live est enregistré"
    assert badge.inner_text().strip() == "REC"

    host = page_as(browser, server, alice, viewport=PHONE)
    host.goto(url)
    button = host.locator("#toggle-recording")
    button.click(timeout=10_000)  # as soon as it shows (the host panel opens with the room's state)
    host.wait_for_selector("#toggle-recording[aria-pressed=false]:not([disabled])", timeout=3000)
    assert button.inner_text() == "Recording: off"
    badge.wait_for(state="hidden", timeout=3000)
    assert not host.locator("#rec-badge").is_visible()
    assert Replay.objects.get(room=room).enabled is False

    button.click()
    host.wait_for_selector("#toggle-recording[aria-pressed=true]:not([disabled])", timeout=3000)
    assert button.inner_text() == "Recording: on"
    badge.wait_for(state="visible", timeout=3000)
    assert Replay.objects.get(room=room).enabled is True

    ARTIFACTS.mkdir(exist_ok=True)
    viewer.screenshot(path=str(ARTIFACTS / "recording-viewer-phone.png"))
    button.scroll_into_view_if_needed()
    host.screenshot(path=str(ARTIFACTS / "recording-host-phone.png"))
    for page in (viewer, host):
        assert fits_the_width(page)
        box = page.locator("#rec-badge").bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
    box = button.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]

    # Refused (the live ended a moment ago, its frame not there yet): the server's reason shows
    # beside the button, which stays as it was and can be tried again.
    Room.objects.filter(pk=room.pk).update(status=Room.Status.ENDED, ended_at=timezone.now())
    button.click()
    host.wait_for_selector("#host-error:not([hidden]) >> text=This live has ended.", timeout=3000)
    assert button.get_attribute("aria-pressed") == "true"
    assert button.is_enabled()
