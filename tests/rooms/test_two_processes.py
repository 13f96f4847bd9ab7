"""Two daphne processes on PostgreSQL + Redis: a room is one room, whichever process a socket is on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import global_settings, settings
from django.db import connection
from django.test import override_settings

from comments.models import Comment
from conftest import PASSWORD
from rooms.models import Room
from tests.browser_http import Browser
from tests.servers import daphne
from tests.sockets import session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL",
    ),
]


@pytest.fixture
def two_servers(transactional_db: None) -> Iterator[list[int]]:
    with ExitStack() as stack:
        servers = [stack.enter_context(daphne(connection.settings_dict, REDIS_URL=settings.REDIS_URL)) for _ in "ab"]
        yield [served.port for served in servers]


class Tab:
    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def next(self, *types: str) -> dict[str, Any]:
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), 10))
            if frame["type"] in types:
                return frame


async def open_tab(port: int, slug: str, cookie: str | None = None) -> tuple[Any, Tab]:
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/rooms/{slug}/", origin=f"http://127.0.0.1:{port}", additional_headers=headers
    )
    tab = Tab(socket)
    await tab.next("room.state")
    return socket, tab


def with_real_password_hash(user: Any) -> None:
    """The servers check passwords with the production hashers, not the suite's fast one."""
    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])


async def test_a_comment_and_its_removal_cross_processes(two_servers: list[int], room: Room, alice, mod) -> None:
    first, second = two_servers
    await database_sync_to_async(with_real_password_hash)(mod)
    host_cookie = await database_sync_to_async(session_cookie)(alice)
    host_socket, host = await open_tab(first, room.slug, host_cookie)
    viewer_socket, viewer = await open_tab(second, room.slug)
    try:
        # both processes count the viewer on the second one (the host, on stage, is not a viewer)
        for tab in (host, viewer):
            while (await tab.next("viewers"))["count"] != 1:
                pass

        await host_socket.send(json.dumps({"type": "comment.post", "text": "hello from process one", "ref": "a"}))
        created = await viewer.next("comment.created")
        assert created["comment"]["text"] == "hello from process one"
        comment_id = created["comment"]["id"]

        moderator = Browser("127.0.0.1", first)
        await asyncio.to_thread(moderator.log_into_admin, "mod", PASSWORD)
        token = await asyncio.to_thread(moderator.csrf_token, "/admin/comments/comment/")
        status, _, _ = await asyncio.to_thread(
            moderator.request,
            "POST",
            "/admin/comments/comment/",
            {"action": "remove_selected", "_selected_action": [comment_id], "csrfmiddlewaretoken": token},
        )
        assert status == 302
        removed = await viewer.next("comment.removed")
        assert removed == {"type": "comment.removed", "seq": created["seq"] + 1, "comment_id": comment_id}
        removed_by = await database_sync_to_async(lambda: Comment.objects.get(pk=comment_id).removed_by_id)()
        assert removed_by == mod.pk
    finally:
        await host_socket.close()
        await viewer_socket.close()
