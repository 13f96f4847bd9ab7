"""Stopping a daphne process closes its peers: a publisher sees the session end at once."""

from __future__ import annotations

import asyncio
import signal

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from rooms.models import Room
from tests.media.peers import Publisher, post_whip, token_of
from tests.servers import daphne
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_stopping_server_ends_its_publishers_sessions(room: Room) -> None:
    """Only `closed` proves the shutdown hook ran: the server's peer said goodbye (DTLS close_notify),
    and aiortc closes the client's peer when every DTLS transport is closed. A server that died
    without closing would leave the client `connected` until ICE consent fails (`failed`, ~30 s)."""
    token = await database_sync_to_async(token_of)(room, 0)
    publisher = Publisher(0)
    states: list[str] = []
    publisher.pc.on("connectionstatechange", lambda: states.append(publisher.pc.connectionState))
    try:
        with daphne(connection.settings_dict) as served:
            url = f"http://127.0.0.1:{served.port}/rooms/{room.slug}/whip"
            await publisher.accept(await asyncio.to_thread(post_whip, url, token, await publisher.offer()))
            await wait_for(lambda: publisher.pc.connectionState == "connected", within=10, what="publisher connected")
            served.process.send_signal(signal.SIGTERM)
            await wait_for(lambda: publisher.pc.connectionState == "closed", within=5, what="the server's goodbye")
            assert "failed" not in states, states
    finally:
        await publisher.close()
