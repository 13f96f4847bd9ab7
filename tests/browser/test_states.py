"""The room page tells the truth (#13): LIVE only once a seat publishes, your own hearts float
once, sound is offered to viewers, the comment box says why it cannot be used, an ended live
shows its recap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from comments.actions import post_comment
from rooms import actions
from rooms.models import Room
from tests.browser.conftest import ARTIFACTS, open_room, page_as
from tests.browser.test_phone import PHONE, go_live_now

pytestmark = pytest.mark.django_db(transaction=True)

COUNT_HEARTS = """() => {
  window.heartsSeen = 0;
  new MutationObserver((changes) => {
    for (const change of changes)
      for (const node of change.addedNodes) if (node.classList?.contains('float-heart')) window.heartsSeen++;
  }).observe(document.querySelector('#hearts'), {childList: true});
}"""


def test_it_says_starting_soon_until_a_seat_publishes(server: str, browser, room: Room, alice, carol) -> None:  # type: ignore[no-untyped-def]
    viewer = page_as(browser, server, carol)
    open_room(viewer, f"{server}/rooms/{room.slug}/")
    badge = viewer.locator("#live-badge")
    assert badge.inner_text() == "Starting soon"
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    go_live_now(host)
    viewer.wait_for_selector("#live-badge.live", timeout=10_000)
    assert badge.inner_text() == "LIVE"
    # a page loaded now says LIVE from the server's first paint
    late = page_as(browser, server)
    late.goto(f"{server}/rooms/{room.slug}/")
    assert late.locator("#live-badge").inner_text() == "LIVE"


def test_it_floats_your_own_heart_once(server: str, browser, room: Room, alice, carol) -> None:  # type: ignore[no-untyped-def]
    viewer = page_as(browser, server, carol)
    open_room(viewer, f"{server}/rooms/{room.slug}/")
    other = page_as(browser, server, alice)
    open_room(other, f"{server}/rooms/{room.slug}/")
    for page in (viewer, other):
        page.evaluate(COUNT_HEARTS)
    viewer.click("#heart")
    other.wait_for_function("() => window.heartsSeen === 1", timeout=5000)  # the others see it
    viewer.wait_for_timeout(2000)  # the server's tally came back meanwhile
    assert viewer.evaluate("() => window.heartsSeen") == 1
    assert other.evaluate("() => window.heartsSeen") == 1


def test_it_offers_sound_to_viewers_only_and_mutes_again(server: str, browser, room: Room, alice, carol) -> None:  # type: ignore[no-untyped-def]
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    assert host.locator("#unmute").is_hidden()  # a broadcaster is not told to tap for sound
    viewer = page_as(browser, server, carol)
    open_room(viewer, f"{server}/rooms/{room.slug}/")
    sound = viewer.locator("#unmute")
    muted = "() => document.querySelector('.tile[data-seat=\"0\"] video').muted"
    assert sound.is_visible()
    assert viewer.evaluate(muted) is True
    sound.click()
    assert viewer.evaluate(muted) is False
    assert sound.inner_text() == "Turn sound off"
    sound.click()
    assert viewer.evaluate(muted) is True
    assert sound.inner_text() == "Tap for sound"


def test_it_says_why_the_comment_box_is_off(server: str, browser, room: Room, alice, carol) -> None:  # type: ignore[no-untyped-def]
    anonymous = page_as(browser, server)
    open_room(anonymous, f"{server}/rooms/{room.slug}/")
    assert anonymous.is_disabled("#comment-text")
    assert anonymous.locator("#comment-reason").inner_text() == "Log in to comment."
    viewer = page_as(browser, server, carol)
    open_room(viewer, f"{server}/rooms/{room.slug}/")
    assert viewer.is_enabled("#comment-text")
    assert viewer.locator("#comment-reason").is_hidden()
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    host.click("#toggle-comments")
    viewer.wait_for_selector("#comment-text:disabled", timeout=5000)
    assert viewer.locator("#comment-reason").inner_text() == "The host turned comments off."
    assert viewer.get_attribute("#comment-text", "placeholder") == "The host turned comments off."


def test_it_shows_a_recap_when_the_live_ends(server: str, browser, room: Room, alice, bob, carol) -> None:  # type: ignore[no-untyped-def]
    other = actions.create_room(host=bob, title="Bob's other live")
    for text in ("one", "two", "three"):
        post_comment(room=room, author=carol, text=text)
    viewer = page_as(browser, server, carol)
    viewer.set_viewport_size(PHONE)
    open_room(viewer, f"{server}/rooms/{room.slug}/")
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    host.click("#end-live")
    viewer.wait_for_selector("#recap-comments", timeout=10_000)
    assert viewer.locator("#recap-comments").inner_text() == "3"
    assert viewer.locator("#recap-duration").inner_text().strip()
    assert viewer.locator("#recap-peak").is_visible()
    assert viewer.locator("#comment-form").is_hidden()
    link = viewer.get_by_role("link", name="Bob's other live")
    assert link.get_attribute("href") == f"/rooms/{other.slug}/"
    ARTIFACTS.mkdir(exist_ok=True)
    viewer.screenshot(path=str(ARTIFACTS / "phone-ended-recap.png"), full_page=True)
    # a fresh visit shows the same recap
    fresh = page_as(browser, server)
    fresh.goto(f"{server}/rooms/{room.slug}/")
    assert fresh.locator("#recap-comments").inner_text() == "3"
    fresh.screenshot(path=str(ARTIFACTS / "desktop-ended-recap.png"), full_page=True)


def test_it_shows_times_in_the_viewers_time_zone(server: str, browser, room: Room) -> None:  # type: ignore[no-untyped-def]
    actions.end_room(room=room)
    Room.objects.filter(pk=room.pk).update(ended_at=datetime(2026, 3, 1, 12, 5, tzinfo=UTC))
    tokyo = page_as(browser, server, locale="en-US", timezone="Asia/Tokyo")
    tokyo.goto(f"{server}/rooms/{room.slug}/")
    ended = tokyo.locator(".recap time")
    tokyo.wait_for_function("() => !document.querySelector('.recap time').textContent.includes('UTC')")
    assert ended.inner_text() == "Mar 1, 2026, 9:05 PM"  # 12:05 UTC is 21:05 in Tokyo
    paris = page_as(browser, server, locale="fr-FR", timezone="Europe/Paris")
    paris.goto(f"{server}/rooms/{room.slug}/")
    paris.wait_for_function("() => !document.querySelector('.recap time').textContent.includes('UTC')")
    assert paris.locator(".recap time").inner_text() == "1 mars 2026, 13:05"


def test_the_host_sees_each_seats_talk_time_on_the_recap(server: str, browser, room: Room, alice, bob) -> None:  # type: ignore[no-untyped-def]
    """Talk time per seat (media.speaking_time) is the host's figure: on their recap, not a viewer's."""
    from media.speaking_time import add_talk
    from rooms.seats import seat_user

    seat_user(room=room, user=bob, index=1)
    add_talk(room_id=room.pk, talk={(0, alice.pk): 95_000, (1, bob.pk): 12_000})
    actions.end_room(room=room)
    for size, name in ((PHONE, "phone"), (None, "desktop")):
        host = page_as(browser, server, alice)
        if size is not None:
            host.set_viewport_size(size)
        host.goto(f"{server}/rooms/{room.slug}/")
        talk = host.locator("#recap-talk li")
        assert talk.count() == 2
        assert talk.nth(0).get_attribute("data-seconds") == "95"
        assert "@alice" in talk.nth(0).inner_text()
        assert "@bob" in talk.nth(1).inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        host.screenshot(path=str(ARTIFACTS / f"{name}-host-recap-talk-time.png"), full_page=True)
    viewer = page_as(browser, server, bob)
    viewer.goto(f"{server}/rooms/{room.slug}/")
    assert viewer.locator("#recap-talk").count() == 0
