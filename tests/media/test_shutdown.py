"""Stopping a daphne process closes its peers: a publisher sees the session end at once."""

from __future__ import annotations

import asyncio
import signal
import urllib.request

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from rooms.models import Room, Seat
from tests.media.peers import Publisher
from tests.servers import daphne

pytestmark = pytest.mark.django_db(transaction=True)


def post_whip(url: str, token: str, sdp: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        url,
        data=sdp.encode(),
        method="POST",
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
        assert response.status == 201
        return response.read().decode()


async def test_a_stopping_server_ends_its_publishers_sessions(room: Room) -> None:
    token = await database_sync_to_async(lambda: Seat.objects.get(room=room, index=0).publish_token)()
    publisher = Publisher(0)
    try:
        with daphne(connection.settings_dict) as served:
            port, server = served.port, served.process
            answer = await asyncio.to_thread(
                post_whip, f"http://127.0.0.1:{port}/rooms/{room.slug}/whip", token, await publisher.offer()
            )
            await publisher.accept(answer)
            for _ in range(100):
                if publisher.pc.connectionState == "connected":
                    break
                await asyncio.sleep(0.1)
            assert publisher.pc.connectionState == "connected"
            server.send_signal(signal.SIGTERM)
            for _ in range(50):
                if publisher.pc.connectionState in {"closed", "failed"}:
                    break
                await asyncio.sleep(0.1)
            assert publisher.pc.connectionState in {"closed", "failed"}
    finally:
        await publisher.close()
