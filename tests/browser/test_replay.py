"""Watching a recorded live afterwards, in a real browser: the seats play in sync, comments come
at their times, a removed comment is never there, and one removed while the page is open leaves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from comments import actions as comment_actions
from comments.models import Comment
from rooms.models import ReactionSecond, Room
from tests.browser.conftest import ARTIFACTS, page_as
from tests.rooms.replays import finish, record_seat, stored_files

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SECONDS = 14.0
CLOCK = "() => window.replayClock()"


@pytest.fixture(autouse=True)
def _files() -> Iterator[None]:
    with stored_files():
        yield


def open_replay(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#replay[data-ready]", state="attached", timeout=10_000)


def spread(page: Any) -> tuple[float, list[dict]]:
    """How far apart the playing seats are (each file's position + its start), and the seats."""
    clock = page.evaluate(CLOCK)
    seats = clock["seats"]
    times = [seat["at"] for seat in seats]
    return (max(times) - min(times) if times else 0.0), seats


def wait_clock(page: Any, at_least: float, within: float = 15) -> None:
    page.wait_for_function(f"() => window.replayClock().t >= {at_least}", timeout=within * 1000)


def assert_in_sync(page: Any, seats: int, what: str = "") -> float:
    """Sample the seats five times, 200 ms apart: each time all `seats` play within 100 ms of each
    other. Returns the widest gap seen (also noted in test-artifacts/replay-sync.txt)."""
    widest = 0.0
    for _ in range(5):
        gap, playing = spread(page)
        assert len(playing) == seats, (playing, page.evaluate(CLOCK), page.text_content("#replay-error"))
        assert gap < 0.1, playing
        widest = max(widest, gap)
        page.wait_for_timeout(200)
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "replay-sync.txt").open("a") as log:
        log.write(f"{what or 'sync'}: widest gap {widest * 1000:.1f} ms over 5 samples\n")
    return widest


def seek_to(page: Any, seconds: int) -> None:
    """Move the seek bar as a person dragging it does (its `input` events)."""
    page.evaluate(
        "(at) => { const s = document.getElementById('seek'); s.value = String(at);"
        " s.dispatchEvent(new Event('input')); }",
        seconds,
    )


def shown_comments(page: Any) -> list[str]:
    return page.eval_on_selector_all("#comments li .text", "(nodes) => nodes.map((n) => n.textContent)")


def test_a_recorded_live_replays_in_sync_with_its_comments(  # type: ignore[no-untyped-def]
    server: str, browser, room: Room, alice, bob, carol, mod
) -> None:
    from django.utils import timezone

    zero = timezone.now() - timedelta(seconds=SECONDS)
    record_seat(room, seat=0, user=alice, start=0, seconds=SECONDS, zero=zero)
    # bob joins 2 s in; his camera is off from 8 s to 10 s of the live
    record_seat(room, seat=1, user=bob, start=2, seconds=SECONDS - 2, zero=zero, video_off=[[6.0, 8.0]])
    posted = {}
    for text, at in [
        ("hello from the start", 1.0),
        ("<b>not bold</b>", 3.0),
        ("to be removed", 4.0),
        ("late one", 9.0),
    ]:
        comment = comment_actions.post_comment(room=room, author=carol, text=text)
        Comment.objects.filter(pk=comment.pk).update(created_at=zero + timedelta(seconds=at))
        posted[text] = comment
    removed_before = comment_actions.post_comment(room=room, author=carol, text="removed before anyone watched")
    Comment.objects.filter(pk=removed_before.pk).update(created_at=zero + timedelta(seconds=2))
    comment_actions.remove_comment(comment=removed_before, by=mod)
    # hearts sent about 3 s in (as the hubs store them: per second)
    ReactionSecond.objects.create(room=room, second=(zero + timedelta(seconds=3)).replace(microsecond=0), hearts=6)
    finish(room, ended_at=zero + timedelta(seconds=SECONDS))
    url = f"{server}/rooms/{room.slug}/replay/"

    viewer = page_as(browser, server, carol, viewport=PHONE)
    open_replay(viewer, url)
    assert viewer.is_visible('.tile[data-seat="0"]')
    assert viewer.is_hidden('.tile[data-seat="1"]')  # bob's seat starts at 2 s
    viewer.click("#play")

    # at 1.5 s: only the first comment, and only the host's tile
    wait_clock(viewer, 1.5)
    assert shown_comments(viewer) == ["hello from the start"]
    # the hearts float as the replay passes their second, and show on the seek bar's strip
    assert viewer.eval_on_selector_all("#heart-strip rect", "(nodes) => nodes.length") == 1
    viewer.wait_for_selector("#hearts .float-heart", state="attached", timeout=4000)
    assert 2.0 <= viewer.evaluate(CLOCK)["t"] <= 3.6
    # at 4.5 s: both seats play, in sync; the comments so far, markup shown as text
    wait_clock(viewer, 4.5)
    assert viewer.is_visible('.tile[data-seat="1"] video')
    assert_in_sync(viewer, seats=2, what="synthetic, playing from 0")
    assert shown_comments(viewer) == ["hello from the start", "<b>not bold</b>", "to be removed"]
    assert viewer.eval_on_selector_all("#comments b", "(nodes) => nodes.length") == 0
    assert "removed before" not in viewer.content()
    ARTIFACTS.mkdir(exist_ok=True)
    viewer.screenshot(path=str(ARTIFACTS / "replay-phone.png"))

    # removed while the page is open: gone within a poll (5 s), and never comes back
    comment_actions.remove_comment(comment=posted["to be removed"], by=mod)
    viewer.wait_for_function(
        "() => ![...document.querySelectorAll('#comments li .text')].some((n) => n.textContent === 'to be removed')",
        timeout=8000,
    )

    # seek into bob's camera-off period: both seats there at once, his tile shows the placeholder
    seek_to(viewer, 8)
    viewer.wait_for_timeout(300)
    clock = viewer.evaluate(CLOCK)
    assert 8.0 <= clock["t"] < 9.0, clock
    assert shown_comments(viewer) == ["hello from the start", "<b>not bold</b>"]
    assert (
        viewer.evaluate("() => document.querySelector('.tile[data-seat=\"1\"]').classList.contains('has-video')")
        is False
    )
    assert viewer.is_visible('.tile[data-seat="1"] .avatar')
    viewer.screenshot(path=str(ARTIFACTS / "replay-phone-camera-off.png"))
    assert_in_sync(viewer, seats=2, what="synthetic, after a seek")
    wait_clock(viewer, 9.3)
    assert shown_comments(viewer)[-1] == "late one"

    # twice the speed: the clock runs twice as fast, the seats stay together
    viewer.select_option("#speed", "2")
    seek_to(viewer, 3)
    viewer.wait_for_timeout(300)
    before = viewer.evaluate(CLOCK)["t"]
    viewer.wait_for_timeout(1000)
    assert viewer.evaluate(CLOCK)["t"] - before > 1.6
    assert_in_sync(viewer, seats=2, what="synthetic, at 2x")

    # pause by keyboard (space) holds everything where it is
    viewer.keyboard.press("Space")
    held = viewer.evaluate(CLOCK)
    viewer.wait_for_timeout(500)
    assert viewer.evaluate(CLOCK)["t"] == pytest.approx(held["t"], abs=0.05)
    assert held["playing"] is False

    desktop = page_as(browser, server, carol, viewport=DESKTOP, locale="fr-FR")
    open_replay(desktop, url)
    assert desktop.inner_text("#play") == "Lecture"
    seek_to(desktop, 5)
    desktop.wait_for_timeout(500)
    desktop.screenshot(path=str(ARTIFACTS / "replay-desktop-fr.png"))
    results = Axe().run(desktop)
    bad = [v["id"] for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
    assert bad == []
