"""The Hotline on the room page (#14) and moderation from the room (#15), in a real browser."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import global_settings
from django.test import override_settings

from comments.models import Ban, BlockedWord, Comment
from conftest import PASSWORD, make_user
from rooms.models import Room, Seat
from tests.browser.conftest import ARTIFACTS, open_room, page_as
from tests.browser.test_phone import PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def comment(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#comment-text", text)
    page.press("#comment-text", "Enter")


def moderate(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """Open the moderation menu of the comment reading `text` (if it is not open already)."""
    item = page.locator("#comments li", has_text=text)
    if item.locator(".ctools[open]").count() == 0:
        item.locator(".ctools summary").click()


def test_a_question_is_asked_voted_spotlighted_and_answered_and_a_pin_follows_the_admin(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, bob, carol, mod
) -> None:
    # an audio-only room: every camera off
    Seat.objects.filter(room=room, index=0).update(camera=False)
    url = f"{server}/rooms/{room.slug}/"
    host = page_as(browser, server, alice)
    open_room(host, url)
    asker = page_as(browser, server, carol, viewport=PHONE)
    open_room(asker, url)
    voter = page_as(browser, server, bob)
    open_room(voter, url)
    # on the stage, the host cannot ask
    assert host.is_disabled("#question-text")
    assert "on stage" in host.inner_text("#question-reason")

    asker.fill("#question-text", "Where did you film the intro?")
    asker.press("#question-text", "Enter")
    voter.wait_for_selector("#questions li >> text=Where did you film the intro?", timeout=5000)
    # one open question at a time: the box says why it is closed
    asker.wait_for_selector("#question-text[disabled]", state="attached", timeout=5000)
    assert "waiting" in asker.inner_text("#question-reason")
    assert asker.locator("#questions li [data-act=vote]").count() == 0  # not on your own question

    vote = voter.locator("#questions li [data-act=vote]")
    assert vote.get_attribute("aria-pressed") == "false"
    vote.click()
    voter.wait_for_selector("#questions li [data-act=vote][aria-pressed=true]", timeout=5000)
    host.wait_for_selector("#questions li >> text=1 vote", timeout=5000)
    # a fresh load shows your own vote
    voter.reload()
    voter.wait_for_selector("#room[data-ready]", state="attached", timeout=10_000)
    assert voter.get_attribute("#questions li [data-act=vote]", "aria-pressed") == "true"

    host.click("#questions li [data-act=spotlight]")
    for page in (asker, voter):
        page.wait_for_selector("#spotlight:visible >> text=Where did you film the intro?", timeout=1000)
        assert page.inner_text("#spotlight-asker") == "@carol"
    # right over the grid, hiding none of it, on a phone too
    spot, grid = asker.locator("#spotlight").bounding_box(), asker.locator("#grid").bounding_box()
    assert grid["y"] - 12 <= spot["y"] + spot["height"] <= grid["y"] + 1
    assert spot["x"] >= 0
    assert spot["x"] + spot["width"] <= PHONE["width"]
    ARTIFACTS.mkdir(exist_ok=True)
    asker.screenshot(path=str(ARTIFACTS / "hotline-phone-spotlight.png"))
    voter.screenshot(path=str(ARTIFACTS / "hotline-desktop-spotlight.png"))
    host.screenshot(path=str(ARTIFACTS / "hotline-desktop-host-queue.png"), full_page=True)

    host.click("#questions li [data-act=answered]")
    for page in (asker, voter):
        page.wait_for_selector("#spotlight", state="hidden", timeout=2000)
        page.wait_for_selector("#questions li", state="detached", timeout=2000)
    asker.wait_for_selector("#question-text:not([disabled])", timeout=2000)

    # the host turns Q&A off: the box says so
    host.click("#toggle-qa")
    asker.wait_for_selector("#question-reason >> text=The host turned questions off.", timeout=2000)
    assert asker.is_disabled("#question-text")

    # a pinned comment, removed in the admin: the pin goes
    comment(asker, "pin me please")
    host.wait_for_selector("#comments li >> text=pin me please", timeout=5000)
    moderate(host, "pin me please")
    host.click("#comments li:has-text('pin me please') [data-act=pin]")
    voter.wait_for_selector("#pinned:visible >> text=pin me please", timeout=2000)
    assert voter.inner_text("#pinned-user") == "@carol"
    pinned = Comment.objects.get(room=room, text="pin me please")
    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):
        mod.set_password(PASSWORD)
        mod.save(update_fields=["password"])
    admin = page_as(browser, server)
    admin.goto(f"{server}/admin/login/?next=/admin/comments/comment/")
    admin.fill("#id_username", "mod")
    admin.fill("#id_password", PASSWORD)
    admin.click("input[type=submit]")
    admin.check(f'input[name="_selected_action"][value="{pinned.pk}"]')
    admin.select_option('select[name="action"]', "remove_selected")
    admin.click('button[name="index"]')
    admin.wait_for_selector("text=Removed 1 comment(s).")
    for page in (voter, asker, host):
        page.wait_for_selector("#pinned", state="hidden", timeout=5000)
        page.wait_for_selector("#comments li >> text=pin me please", state="detached", timeout=5000)


def test_a_named_moderator_removes_and_times_out_and_a_held_comment_waits_for_approval(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, bob, carol
) -> None:
    dave = make_user("dave")
    BlockedWord.objects.create(word="spoiler", room=room, action=BlockedWord.Action.HOLD)
    url = f"{server}/rooms/{room.slug}/"
    host = page_as(browser, server, alice)
    open_room(host, url)
    moderator = page_as(browser, server, bob)
    open_room(moderator, url)
    viewer = page_as(browser, server, carol, locale="en-GB", timezone="America/New_York", viewport=PHONE)
    open_room(viewer, url)
    author = page_as(browser, server, dave)
    open_room(author, url)
    assert moderator.locator("#comments .ctools").count() == 0
    assert moderator.is_hidden("#mod-panel")

    host.fill("#moderator-name", "bob")
    host.press("#moderator-name", "Enter")
    host.wait_for_selector("#moderators li >> text=@bob", timeout=5000)
    moderator.wait_for_selector("#mod-panel", state="visible", timeout=5000)
    assert moderator.is_hidden("#host-moderation")  # slow mode, Q&A and moderators are the host's

    comment(viewer, "buy followers here")
    viewer.wait_for_selector("#comments li >> text=buy followers here", timeout=5000)
    comment(viewer, "and here too")
    moderator.wait_for_selector("#comments li >> text=and here too", timeout=5000)
    moderate(moderator, "buy followers here")
    moderator.click("#comments li:has-text('buy followers here') [data-act=remove]")
    viewer.wait_for_selector("#comments li >> text=buy followers here", state="detached", timeout=2000)
    moderate(moderator, "and here too")
    item = moderator.locator("#comments li", has_text="and here too")
    item.locator("select").select_option("600")
    item.locator("[data-act=timeout]").click()
    moderator.wait_for_selector("#comments li .done", timeout=2000)
    viewer.wait_for_selector("#comment-text[disabled]", state="attached", timeout=2000)
    reason = viewer.inner_text("#comment-reason")
    ban = Ban.objects.get(user=carol, room=room)
    local = ban.until.astimezone(ZoneInfo("America/New_York"))
    now = datetime.now(ZoneInfo("America/New_York"))
    # the page is in English, in the viewer's time zone; the date too when the timeout ends on another day
    day = "" if local.date() == now.date() else f"{local:%b} {local.day}, {local.year}, "
    assert reason == f"You are timed out until {day}{local:%-I:%M %p}.", reason
    assert (now - local).total_seconds() < 0
    viewer.screenshot(path=str(ARTIFACTS / "moderation-phone-timed-out.png"))

    # held for review: its author alone sees it, pending, until a moderator approves it
    comment(author, "no spoiler please")
    author.wait_for_selector("#comments li.pending >> text=no spoiler please", timeout=5000)
    assert "pending review" in author.inner_text("#comments li.pending")
    moderator.wait_for_selector("#held li >> text=no spoiler please", timeout=5000)
    host.wait_for_selector("#held li >> text=no spoiler please", timeout=5000)
    assert viewer.locator("#comments li", has_text="no spoiler please").count() == 0
    moderator.screenshot(path=str(ARTIFACTS / "moderation-desktop-held.png"), full_page=True)
    moderator.click("#held li [data-act='held.approve']")
    viewer.wait_for_selector("#comments li >> text=no spoiler please", timeout=2000)
    author.wait_for_selector("#comments li:not(.pending) >> text=no spoiler please", timeout=2000)
    host.wait_for_selector("#held li >> text=no spoiler please", state="detached", timeout=2000)

    # slow mode: the wait shows and counts down after a comment
    host.select_option("#slow-mode", "30")
    author.wait_for_selector("#comment-reason >> text=Slow mode: one comment every 30 s.", timeout=2000)
    comment(author, "first in slow mode")
    author.wait_for_selector("#comment-reason >> text=/you can comment again in \\d+ s/", timeout=2000)
    assert author.is_disabled("#comment-send")
    first = author.inner_text("#comment-reason")
    author.wait_for_timeout(1500)
    assert author.inner_text("#comment-reason") != first

    # the host un-names the moderator: their tools go
    host.click("#moderators li:has-text('@bob') button")
    moderator.wait_for_selector("#mod-panel", state="hidden", timeout=5000)
    moderator.wait_for_selector("#comments .ctools", state="detached", timeout=5000)


@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_the_hotline_and_moderation_are_in_french_and_accessible(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, carol, locale: str
) -> None:
    from tests.browser.test_accessibility import assert_accessible
    from tests.browser.test_french import assert_french

    dave = make_user("dave")
    BlockedWord.objects.create(word="spoiler", room=room, action=BlockedWord.Action.HOLD)
    url = f"{server}/rooms/{room.slug}/"
    host = page_as(browser, server, alice, locale=locale)
    open_room(host, url)
    viewer = page_as(browser, server, carol, locale=locale, viewport=PHONE)
    open_room(viewer, url)
    author = page_as(browser, server, dave, locale=locale, viewport=PHONE)
    open_room(author, url)

    viewer.fill("#question-text", "ça marche ?")
    viewer.press("#question-text", "Enter")
    host.wait_for_selector("#questions li [data-act=spotlight]", timeout=5000)
    host.click("#questions li [data-act=spotlight]")
    comment(viewer, "salut")
    host.wait_for_selector("#comments li >> text=salut", timeout=5000)
    moderate(host, "salut")
    host.click("#comments li:has-text('salut') [data-act=pin]")
    comment(author, "un spoiler")
    host.wait_for_selector("#held li", timeout=5000)
    host.select_option("#slow-mode", "10")
    author.wait_for_selector("#comments li.pending", timeout=5000)
    viewer.wait_for_selector("#spotlight", state="visible", timeout=5000)
    viewer.wait_for_selector("#pinned", state="visible", timeout=5000)
    author.wait_for_selector("#comment-reason:not(:empty)", timeout=5000)  # slow mode
    moderate(host, "salut")  # its menu open: Pin, Remove, the timeout's choice
    author.evaluate("() => document.querySelector('#qa').scrollIntoView()")
    for page in (host, viewer, author):
        if locale == "fr-FR":
            assert_french(page)
        assert_accessible(page, f"room, hotline, {page.url}")
    # the host on a phone: the spotlight above the grid leaves the seat's own controls free
    host.set_viewport_size(PHONE)
    spot, tools = host.locator("#spotlight").bounding_box(), host.locator("#own-tools").bounding_box()
    assert spot["y"] + spot["height"] <= tools["y"]
    host.screenshot(path=str(ARTIFACTS / f"hotline-phone-host-{locale}.png"))
    host.set_viewport_size({"width": 1100, "height": 900})
    # a timed-out viewer
    item = host.locator("#comments li", has_text="salut")
    item.locator("[data-act=timeout]").click()
    viewer.wait_for_selector("#comment-text[disabled]", state="attached", timeout=2000)
    if locale == "fr-FR":
        assert_french(viewer)
        assert viewer.inner_text("#comment-reason").startswith("Vous ne pouvez plus commenter jusqu'à ")
        viewer.screenshot(path=str(ARTIFACTS / "fr-phone-hotline-timed-out.png"))
        host.screenshot(path=str(ARTIFACTS / "fr-desktop-host-hotline.png"), full_page=True)
    assert_accessible(viewer, "room, timed out")
