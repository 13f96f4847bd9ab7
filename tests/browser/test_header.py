"""The site's header stays one row on a 390x844 phone in French, the longest of our languages
(#13): the brand, the account links and the language switch side by side, inside the screen. A
long username is cut with an ellipsis; a moderator's is left out there (Moderation and Log out
fill the row)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.browser.conftest import ARTIFACTS, page_as
from tests.browser.test_phone import PHONE

pytestmark = pytest.mark.django_db(transaction=True)

# The header's boxes: its height, the page's width, and each shown item's edges.
BOXES = """() => {
  const bar = document.querySelector('header.bar').getBoundingClientRect();
  const items = [...document.querySelectorAll('header.bar .brand, header.bar nav > *')]
    .filter((node) => node.getClientRects().length)
    .map((node) => node.getBoundingClientRect())
    .map((box) => ({ top: box.top, bottom: box.bottom, left: box.left, right: box.right, width: box.width }));
  return { height: bar.height, width: document.documentElement.scrollWidth, items };
}"""


def one_row(page: Any) -> dict[str, Any]:
    boxes = page.evaluate(BOXES)
    # one row: every item crosses the same horizontal line
    assert max(item["top"] for item in boxes["items"]) < min(item["bottom"] for item in boxes["items"]), boxes
    assert boxes["height"] <= 56, boxes
    assert boxes["width"] <= PHONE["width"], f"the page scrolls sideways: {boxes}"
    assert all(item["width"] > 0 and item["right"] <= PHONE["width"] for item in boxes["items"]), boxes
    return boxes


@pytest.mark.parametrize("who", ["anonymous", "viewer", "moderator"])
def test_the_french_phone_header_is_one_row(server: str, browser: Any, who: str) -> None:
    user = None
    if who != "anonymous":
        user = User.objects.create_user("marguerite_duras_1914", is_staff=who == "moderator")
    page = page_as(browser, server, user, locale="fr-FR", viewport=PHONE)
    page.goto(f"{server}/")
    header = page.locator("header.bar")
    assert header.get_by_text("English").is_visible()
    assert header.get_by_text("liverooms").is_visible()
    if who == "anonymous":
        assert header.get_by_text("Se connecter").is_visible()
        assert header.get_by_text("S'inscrire").is_visible()
    else:
        assert header.get_by_text("Se déconnecter").is_visible()
    if who == "viewer":
        assert header.locator(".who").is_visible()
    if who == "moderator":
        assert header.get_by_text("Modération").is_visible()
    one_row(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / f"phone-fr-header-{who}.png"), clip={"x": 0, "y": 0, "width": 390, "height": 120}
    )
