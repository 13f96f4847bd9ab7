"""The studio's OBS/FFmpeg panel (#13): the token hidden until revealed, copy buttons, and an
FFmpeg command that never wraps inside the token."""

from __future__ import annotations

import pytest

from rooms.models import Room, Seat
from tests.browser.conftest import ARTIFACTS, open_room, page_as
from tests.browser.test_phone import PHONE

pytestmark = pytest.mark.django_db(transaction=True)

# How many lines the token takes inside the FFmpeg command, as laid out on screen.
TOKEN_LINES = """(token) => {
  const command = document.querySelector('#ffmpeg-command');
  const walker = document.createTreeWalker(command, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const start = walker.currentNode.textContent.indexOf(token);
    if (start < 0) continue;
    const range = document.createRange();
    range.setStart(walker.currentNode, start);
    range.setEnd(walker.currentNode, start + token.length);
    return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
  }
  return -1;
}"""


def test_it_hides_the_token_until_revealed_and_copies_it(server: str, browser, room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    studio = page_as(browser, server, alice)
    studio.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    studio.set_viewport_size(PHONE)
    open_room(studio, f"{server}/rooms/{room.slug}/")
    token = Seat.objects.get(room=room, index=0).publish_token
    studio.click("#studio summary")
    assert token not in studio.inner_text("#stage-controls")
    studio.click("[data-copy=whip-token]")
    studio.wait_for_selector("#token-status:has-text('Copied.')", timeout=3000)
    assert studio.evaluate("() => navigator.clipboard.readText()") == token
    studio.click("[data-copy=ffmpeg-command]")
    studio.wait_for_selector("#copy-status:has-text('Copied.')", timeout=3000)
    copied = studio.evaluate("() => navigator.clipboard.readText()")
    assert f"-authorization {token} " in copied

    reveal = studio.locator("#reveal-token")
    reveal.click()
    assert reveal.get_attribute("aria-pressed") == "true"
    assert studio.inner_text("#whip-token") == token
    assert studio.inner_text("#ffmpeg-command") == copied
    assert studio.evaluate(TOKEN_LINES, token) == 1  # on one line, even on a phone
    ARTIFACTS.mkdir(exist_ok=True)
    studio.locator("#stage-controls").screenshot(path=str(ARTIFACTS / "phone-studio-revealed.png"))
    reveal.click()
    assert token not in studio.inner_text("#stage-controls")
