"""The room page's "Lift timeout" (#15): a moderator ends a viewer's timeout from the comment's menu."""

from __future__ import annotations

import pytest

from comments.models import Ban, Comment
from rooms.models import Room
from tests.browser.conftest import open_room, page_as
from tests.browser.test_phone import PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_moderator_lifts_a_timeout_and_the_viewer_comments_again(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, carol
) -> None:
    url = f"{server}/rooms/{room.slug}/"
    host = page_as(browser, server, alice, viewport=PHONE)
    open_room(host, url)
    viewer = page_as(browser, server, carol, locale="fr-FR", viewport=PHONE)
    open_room(viewer, url)

    viewer.fill("#comment-text", "premier !")
    viewer.press("#comment-text", "Enter")
    item = host.locator("#comments li", has_text="premier !")
    item.locator(".ctools summary").click()
    item.locator("select").select_option("3600")
    item.locator("[data-act=timeout]").click()
    viewer.wait_for_selector("#comment-text[disabled]", state="attached", timeout=3000)
    assert Ban.objects.filter(user=carol, room=room, until__isnull=False).exists()

    lift = item.locator("[data-act=lift-timeout]")
    assert lift.get_attribute("aria-label") == "Lift @carol's timeout"
    lift.click()
    host.wait_for_selector("#comments li .done >> text=Timeout lifted.", timeout=3000)
    viewer.wait_for_selector("#comment-text:not([disabled])", timeout=3000)
    assert "suspendu" not in viewer.inner_text("#comment-reason").lower()
    assert not Ban.objects.filter(user=carol, room=room).exists()

    viewer.fill("#comment-text", "merci")
    viewer.press("#comment-text", "Enter")
    host.wait_for_selector("#comments li >> text=merci", timeout=3000)
    assert Comment.objects.filter(author=carol, text="merci").exists()
