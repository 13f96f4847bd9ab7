"""Real-browser journeys: Debian's Chromium driven by Playwright against daphne started here.

The camera and microphone are Chromium's fake devices; the server is the real ASGI app on the
test database. Without /usr/bin/chromium (a laptop that never ran .ci/run) these tests skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from tests.servers import daphne
from tests.sockets import session_cookie

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")


@pytest.fixture
def server(transactional_db: None) -> Iterator[str]:
    with daphne(connection.settings_dict) as served:
        yield served.url


@pytest.fixture
def browser(server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Chromium, started after the server (which must not inherit the flag below)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # plain synchronous code all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-features=WebRtcHideLocalIpsWithMdns",
            ],
        )
        try:
            yield chromium
        finally:
            # The test's own ORM calls ran while Playwright's loop was running: their connection
            # lives in that context; close it here, or the test database stays "in use".
            connections.close_all()
            chromium.close()


def page_as(
    browser: Any,
    server: str,
    user: Any = None,
    *,
    locale: str | None = None,
    viewport: dict | None = None,
    timezone: str | None = None,
) -> Any:
    """A fresh browser context signed in as `user` (anonymous if None), in `locale` (its
    Accept-Language and navigator.language) and `timezone` (Chromium's defaults if None)."""
    options: dict[str, Any] = {"viewport": viewport or {"width": 1100, "height": 900}}
    if locale is not None:
        options["locale"] = locale
    if timezone is not None:
        options["timezone_id"] = timezone
    context = browser.new_context(**options)
    if user is not None:
        context.add_cookies([{"name": "sessionid", "value": session_cookie(user), "url": server}])
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def open_room(page: Any, url: str) -> None:
    """Load a room page and wait until its websocket delivered the room's state."""
    page.goto(url)
    page.wait_for_selector("#room[data-ready]", state="attached", timeout=10_000)
