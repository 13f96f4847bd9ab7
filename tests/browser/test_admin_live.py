"""A moderator follows a busy live from the Django admin (#15), in a real browser: one click from
the room to its comments, "N new comments" as they arrive, shown without losing their place, and
a removal that leaves the viewer's page at once."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from datetime import timedelta

import pytest
from django.conf import global_settings
from django.test import override_settings
from django.utils import timezone
from websockets.sync.client import connect

from comments.models import Comment
from conftest import PASSWORD, make_user
from rooms.models import Room
from tests.browser.conftest import open_room, page_as
from tests.sockets import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_moderator_follows_a_live_in_the_admin(server: str, browser, room: Room, carol, mod) -> None:  # type: ignore[no-untyped-def]
    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):
        mod.set_password(PASSWORD)  # the server checks it with the production hashers
        mod.save(update_fields=["password"])
    fans = [make_user(f"fan{n}") for n in range(5)]
    # the live has been going for a while: a long list
    start = timezone.now() - timedelta(minutes=10)
    Comment.objects.bulk_create(
        Comment(room=room, author=fans[n % 5], text=f"earlier comment {n}", created_at=start + timedelta(seconds=n))
        for n in range(60)
    )
    viewer = page_as(browser, server, carol)
    open_room(viewer, f"{server}/rooms/{room.slug}/")

    moderator = page_as(browser, server, viewport={"width": 1100, "height": 700})
    moderator.goto(f"{server}/admin/login/?next=/admin/rooms/room/{room.pk}/change/")
    moderator.fill("#id_username", "mod")
    moderator.fill("#id_password", PASSWORD)
    moderator.click("input[type=submit]")
    moderator.click("text=Follow comments")  # one click from the room to its comments
    moderator.wait_for_selector("#result_list")
    assert f"room__id__exact={room.pk}" in moderator.url
    assert moderator.is_hidden("#new-comments")

    # The moderator reads down the list and ticks a comment to look at later.
    reading = moderator.locator("#result_list tbody tr", has_text="earlier comment 30")
    reading.scroll_into_view_if_needed()
    moderator.mouse.wheel(0, 150)
    moderator.wait_for_timeout(200)
    ticked = Comment.objects.get(text="earlier comment 35")
    moderator.check(f'input[name="_selected_action"][value="{ticked.pk}"]')
    top_before = reading.bounding_box()["y"]

    viewer.fill("#comment-text", "please remove me")
    viewer.press("#comment-text", "Enter")
    viewer.wait_for_selector("#comments li >> text=please remove me", timeout=5000)
    moderator.wait_for_selector("#new-comments:visible >> text=1 new comment", timeout=8000)

    # then 5 comments a second for two seconds, from five viewers' sockets
    port = server.rsplit(":", 1)[1]
    with ExitStack() as stack:
        sockets = [
            stack.enter_context(
                connect(
                    f"ws://127.0.0.1:{port}/ws/rooms/{room.slug}/",
                    origin=server,
                    additional_headers={"Cookie": f"sessionid={session_cookie(fan)}"},
                )
            )
            for fan in fans
        ]
        for n in range(10):
            sockets[n % 5].send(json.dumps({"type": "comment.post", "text": f"busy comment {n}"}))
            time.sleep(0.2)
        moderator.wait_for_selector("#new-comments >> text=11 new comments", timeout=8000)
    assert abs(reading.bounding_box()["y"] - top_before) < 2  # nothing moved under the moderator yet

    moderator.click("#show-new-comments")
    moderator.wait_for_selector("#result_list tr.new-comment >> text=please remove me", timeout=8000)
    assert moderator.locator("#result_list tr.new-comment").count() == 11
    assert moderator.is_hidden("#new-comments")
    # the row they were reading is where it was, and their tick is kept
    reading = moderator.locator("#result_list tbody tr", has_text="earlier comment 30")
    assert abs(reading.bounding_box()["y"] - top_before) < 3
    assert moderator.is_checked(f'input[name="_selected_action"][value="{ticked.pk}"]')

    # remove the viewer's comment: it leaves the viewer's page at once
    moderator.uncheck(f'input[name="_selected_action"][value="{ticked.pk}"]')
    doomed = Comment.objects.get(text="please remove me")
    moderator.check(f'input[name="_selected_action"][value="{doomed.pk}"]')
    moderator.select_option('select[name="action"]', "remove_selected")
    moderator.click('button[name="index"]')
    moderator.wait_for_selector("text=Removed 1 comment(s).")
    viewer.wait_for_selector(f'#comments li[data-id="{doomed.pk}"]', state="detached", timeout=3000)
    doomed.refresh_from_db()
    assert doomed.removed_by == mod
