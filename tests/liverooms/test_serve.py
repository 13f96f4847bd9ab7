"""daphne serves the real ASGI app: pages over HTTP, and Origin-checked websockets."""

import asyncio
import urllib.request

import pytest
from django.db import connection

from tests.servers import daphne


@pytest.fixture
def server(transactional_db: None) -> str:
    with daphne(connection.settings_dict) as served:
        yield f"127.0.0.1:{served.port}"


def test_daphne_serves_the_home_page_and_its_styles(server: str) -> None:
    with urllib.request.urlopen(f"http://{server}/", timeout=10) as page:
        assert page.status == 200
        assert "Go live" in page.read().decode()
    with urllib.request.urlopen(f"http://{server}/static/rooms/site.css", timeout=10) as css:
        assert css.status == 200


def test_a_foreign_origin_cannot_open_a_websocket(server: str) -> None:
    async def handshake(origin: str) -> bytes:
        reader, writer = await asyncio.open_connection(*server.split(":"))
        writer.write(
            (
                f"GET /ws/rooms/x/ HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
            ).encode()
        )
        status = await asyncio.wait_for(reader.readline(), 10)
        writer.close()
        return status

    assert b" 403 " in asyncio.run(handshake("http://evil.example.com"))
