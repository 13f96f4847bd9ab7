"""Go live works the first time (#13): a guest who takes a seat presses Go live the moment it
is enabled and is live, without a reload, and again after leaving and being invited back."""

from __future__ import annotations

import pytest

from rooms.models import Room, Seat, new_publish_token
from tests.browser.conftest import ARTIFACTS, open_room, page_as

pytestmark = pytest.mark.django_db(transaction=True)

ENABLED_GO_LIVE = "#go-live:not([disabled])"


def invite_and_accept(host, guest, username: str) -> None:  # type: ignore[no-untyped-def]
    host.fill("#invite-name", username)
    host.press("#invite-name", "Enter")
    guest.click("#accept-offer")


def go_live_at_once(guest) -> None:  # type: ignore[no-untyped-def]
    """Click Go live the instant it can be clicked, as a person would, and be live."""
    guest.click(ENABLED_GO_LIVE, timeout=5000)
    guest.wait_for_selector("#room[data-publishing]", state="attached", timeout=20_000)


def test_it_lets_a_guest_go_live_first_time_and_again_after_rejoining(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, bob
) -> None:
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    guest = page_as(browser, server, bob)
    sockets: list[str] = []
    guest.on("websocket", lambda ws: sockets.append(ws.url))
    open_room(guest, f"{server}/rooms/{room.slug}/")
    shown: list[str] = []
    guest.expose_function("noteConnection", lambda text: shown.append(text))
    guest.evaluate(
        """() => new MutationObserver(() => window.noteConnection(document.querySelector('#connection').textContent))
             .observe(document.querySelector('#connection'), {childList: true, characterData: true, subtree: true})"""
    )

    invite_and_accept(host, guest, "bob")
    go_live_at_once(guest)
    host.wait_for_function(
        "() => document.querySelector('.tile[data-seat=\"1\"]').classList.contains('has-video')", timeout=10_000
    )
    assert guest.locator("#comment-error").is_hidden()
    assert guest.locator("#offer-error").is_hidden()
    assert not [text for text in shown if text], f"the page said {shown}"
    assert len(sockets) == 1, sockets  # the token came on the open socket: no reconnect

    # leave the stage and come back on the same page: live again
    guest.click("#leave")
    guest.wait_for_selector("#stage-controls", state="hidden", timeout=5000)
    guest.wait_for_selector("#room[data-publishing]", state="detached", timeout=5000)
    invite_and_accept(host, guest, "bob")
    go_live_at_once(guest)
    assert guest.locator("#publish-error").is_hidden()
    assert len(sockets) == 1, sockets
    ARTIFACTS.mkdir(exist_ok=True)
    guest.screenshot(path=str(ARTIFACTS / "guest-live-again.png"))


def test_it_goes_live_with_a_token_made_in_another_tab(server: str, browser, room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    # the studio in another tab makes a new token: this page hears of it (seat.token)
    studio = page_as(browser, server, alice)
    open_room(studio, f"{server}/rooms/{room.slug}/")
    studio.click("#studio summary")
    studio.click("#rotate-token")
    studio.wait_for_selector("#token-status:has-text('New token')", timeout=5000)
    token = Seat.objects.get(room=room, index=0).publish_token
    host.wait_for_function("(token) => document.querySelector('#whip-token').textContent === token", arg=token)
    go_live_at_once(host)
    # the other tab knows the seat is live: its Go live is off, and says why
    studio.wait_for_selector("#go-live[disabled]", state="attached", timeout=5000)
    assert "another tab" in studio.inner_text("#publish-status")


def test_it_shows_why_go_live_failed_until_the_next_try(server: str, browser, room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    host = page_as(browser, server, alice)
    open_room(host, f"{server}/rooms/{room.slug}/")
    # the token changes where this page cannot hear it (the database, as another deployment's
    # rotation would): the page's WHIP request is refused
    Seat.objects.filter(room=room, index=0).update(publish_token=new_publish_token())

    host.click(ENABLED_GO_LIVE, timeout=5000)
    error = host.locator("#publish-error")
    error.wait_for(state="visible", timeout=20_000)
    said = error.inner_text()
    assert said.startswith("Could not go live")
    host.wait_for_timeout(1500)
    assert error.is_visible()  # not blanked by the clean-up
    assert error.inner_text() == said
    assert host.is_enabled("#go-live")  # and the next try is possible
