"""With the Celery broker unreachable, committed work stays committed and answered: a room is
created (no 500), a comment is acknowledged once (no 1011, no duplicate on retry), and the webhook
deliveries wait in the outbox for the sweep."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import global_settings
from django.db import connection
from django.test import override_settings

from comments.models import Comment
from conftest import PASSWORD
from liverooms.webhooks.models import EVENT_TYPES, Delivery, Endpoint
from rooms.models import Room
from tests.browser_http import Browser
from tests.servers import daphne, free_port
from tests.sockets import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(transactional_db: None) -> Iterator[int]:
    # Nothing listens on this port: every task kick fails after kombu's publish retries.
    env = {"CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0", "CELERY_TASK_ALWAYS_EAGER": "0"}
    with daphne(connection.settings_dict, **env) as served:
        yield served.port


def subscribed_endpoint() -> Endpoint:
    return Endpoint.objects.create(url="http://127.0.0.1:9/hook", event_types=[name for name, _ in EVENT_TYPES])


def with_real_password_hash(user) -> None:
    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])


def go_live(port: int) -> tuple[int, dict[str, str]]:
    browser = Browser("127.0.0.1", port)
    token = browser.csrf_token("/accounts/login/")
    status, _, _ = browser.request(
        "POST", "/accounts/login/", {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert status == 302, "log-in failed"
    token = browser.csrf_token("/")
    status, headers, _ = browser.request("POST", "/rooms/", {"title": "Broker is down", "csrfmiddlewaretoken": token})
    return status, headers


async def test_a_room_is_created_and_answered_with_the_broker_down(server: int, alice) -> None:
    await database_sync_to_async(subscribed_endpoint)()
    await database_sync_to_async(with_real_password_hash)(alice)

    status, headers = await asyncio.to_thread(go_live, server)

    room = await database_sync_to_async(Room.objects.get)(host=alice)
    assert (status, headers["Location"]) == (302, f"/rooms/{room.slug}/")
    # the room.started delivery waits for the sweep (webhooks.deliver_due) once the broker is back
    assert await database_sync_to_async(Delivery.objects.filter(status="pending").count)() == 1


async def test_a_comment_is_acknowledged_once_with_the_broker_down(server: int, room: Room, carol) -> None:
    await database_sync_to_async(subscribed_endpoint)()
    cookie = await database_sync_to_async(session_cookie)(carol)
    socket = await websockets.connect(
        f"ws://127.0.0.1:{server}/ws/rooms/{room.slug}/",
        origin=f"http://127.0.0.1:{server}",
        additional_headers={"Cookie": f"sessionid={cookie}"},
    )
    try:
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "room.state"
        acks = []
        for _attempt in range(2):  # the client did not hear the first ack in time and retries
            await socket.send(json.dumps({"type": "comment.post", "text": "still here", "ref": "c1"}))
            while (frame := json.loads(await asyncio.wait_for(socket.recv(), 15)))["type"] != "ack":
                assert frame["type"] in {"comment.created", "viewers"}, frame
            acks.append(frame)
        assert acks[0] == acks[1]
        assert await database_sync_to_async(Comment.objects.count)() == 1
        await socket.send(json.dumps({"type": "reaction.send", "kind": "heart", "ref": "h"}))
        while (frame := json.loads(await asyncio.wait_for(socket.recv(), 10)))["type"] != "ack":
            pass
        assert frame["ref"] == "h"  # the socket is still open and answering
    finally:
        await socket.close()
