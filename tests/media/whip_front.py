"""A minimal WHIP front for relay-level tests with outside clients (FFmpeg): plain asyncio HTTP/1.1,
POST an offer with the right bearer token -> seat 0's publisher, DELETE the session -> end it.
The Django views do the same with the real rules (tests/media/test_ffmpeg_server.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from media.relay import RoomRelay


async def _respond(writer: asyncio.StreamWriter, status: str, body: bytes = b"", headers: str = "") -> None:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n{headers}\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
    writer.close()


@asynccontextmanager
async def whip_front(relay: RoomRelay, token: str) -> AsyncIterator[str]:
    """Serve WHIP for `relay`'s seat 0 on loopback; yields the endpoint URL."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, path, _ = head[0].split(" ", 2)
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        body = await reader.readexactly(int(fields.get("content-length", "0")))
        if method == "DELETE":
            found = await relay.end_session(path.rsplit("/", 1)[-1])
            await _respond(writer, "204 No Content" if found else "404 Not Found")
        elif fields.get("authorization") != f"Bearer {token}":
            await _respond(writer, "403 Forbidden")
        else:
            session, answer = await relay.publish(0, body.decode())
            headers = f"Content-Type: application/sdp\r\nLocation: /whip/{session}\r\n"
            await _respond(writer, "201 Created", answer.encode(), headers)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/whip"
    finally:
        server.close()
        await server.wait_closed()
