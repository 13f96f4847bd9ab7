"""Room frames go straight to daphne's sockets, encoded once: checked against a real daphne and a
real websocket client, and against the `websockets` library's own frame parser."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from websockets.frames import Frame as ParsedFrame
from websockets.frames import Opcode
from websockets.streams import StreamReader

from rooms.models import Room
from rooms.wire import Frame
from tests.servers import daphne
from tests.sockets import session_cookie


def parse(wire: bytes) -> ParsedFrame:
    reader = StreamReader()
    reader.feed_data(wire)
    reader.feed_eof()
    parser = ParsedFrame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    raise AssertionError("incomplete frame")


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_a_frame_is_one_websocket_text_frame_of_its_utf8_bytes(size: int) -> None:
    text = Frame("é" * (size // 2) + "x" * (size % 2))
    parsed = parse(text.wire)
    assert parsed.opcode == Opcode.TEXT
    assert parsed.fin
    assert parsed.data.decode() == text
    assert text.wire is text.wire  # encoded once, however many sockets write it


@pytest.fixture
def server(transactional_db: None) -> Iterator[int]:
    env = {"WEBSOCKET_MAX_QUEUED_BYTES": str(64 * 1024)}
    # The host floods on purpose: thousands of comments as fast as the socket takes them.
    env.update(COMMENT_HOST_BURST="100000", STAGE_ACTION_BURST="100000", SOCKET_FRAME_BURST="100000")
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    with daphne(connection.settings_dict, **env) as served:
        yield served.port


async def connect(port: int, room: Room, cookie: str | None = None, **options: Any) -> Any:
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/rooms/{room.slug}/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers=headers,
        compression=None,
        max_size=None,
        **options,
    )
    state = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert state["type"] == "room.state"
    return ws


async def frames_until(ws: Any, done: Any, wait: float = 10) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while not done(got):
        got.append(json.loads(await asyncio.wait_for(ws.recv(), wait)))
    return got


@pytest.mark.django_db(transaction=True)
async def test_daphne_viewers_get_every_comment_whole_and_in_order(server: int, room: Room, alice: User) -> None:
    cookie = await database_sync_to_async(session_cookie)(alice)
    host = await connect(server, room, cookie)
    viewers = [await connect(server, room) for _ in range(3)]
    texts = ["short", "ü" * 200, "x" * 500, "<b>not html</b> 🎉", "é" * 500]
    for n, text in enumerate(texts):
        await host.send(json.dumps({"type": "comment.post", "text": text, "ref": f"c{n}"}))
    await host.send(json.dumps({"type": "reaction.send", "kind": "heart"}))

    for viewer in viewers:
        frames = await frames_until(viewer, lambda got: sum(f["type"] == "comment.created" for f in got) == len(texts))
        comments = [f for f in frames if f["type"] == "comment.created"]
        assert [c["comment"]["text"] for c in comments] == texts
        seqs = [c["seq"] for c in comments]
        assert seqs == list(range(seqs[0], seqs[0] + len(texts)))
        counts = await frames_until(viewer, lambda got: any(f["type"] == "reactions" for f in got))
        assert counts[-1]["counts"] == {"heart": 1}
    # The host's acks (written through ASGI) and the events (written directly) share one socket.
    mine = await frames_until(host, lambda got: sum(f["type"] == "ack" for f in got) == len(texts))
    assert [f["ref"] for f in mine if f["type"] == "ack"] == [f"c{n}" for n in range(len(texts))]
    for ws in (host, *viewers):
        await ws.close()


TCP_ESTABLISHED, TCP_CLOSE = 1, 7  # linux/tcp_states.h


def tcp_state(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


@pytest.mark.django_db(transaction=True)
async def test_a_viewer_who_stops_reading_is_cut_off_and_the_others_are_not(
    server: int, room: Room, alice: User
) -> None:
    cookie = await database_sync_to_async(session_cookie)(alice)
    host = await connect(server, room, cookie)
    reader = await connect(server, room)
    # A viewer whose tab froze: a small receive buffer it never reads.
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
    stalled.connect(("127.0.0.1", server))
    stalled.sendall(
        (
            f"GET /ws/rooms/{room.slug}/ HTTP/1.1\r\nHost: 127.0.0.1:{server}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{server}\r\n\r\n"
        ).encode()
    )
    assert b"101" in stalled.recv(12)
    text = "é" * 500
    posts = 0
    # Post until the server gives up on the stalled viewer: past the kernel's socket buffers
    # (a few hundred KiB on loopback), then past the 64 KiB this server lets queue for it.
    while tcp_state(stalled) == TCP_ESTABLISHED and posts < 6000:
        for _ in range(100):
            await host.send(json.dumps({"type": "comment.post", "text": text, "ref": f"c{posts}"}))
            posts += 1
        await frames_until(reader, lambda got: sum(f["type"] == "comment.created" for f in got) == 100, wait=30)
        await frames_until(host, lambda got: sum(f["type"] == "ack" for f in got) == 100, wait=30)
    assert tcp_state(stalled) == TCP_CLOSE, f"still connected after {posts} comments"
    # The viewer who reads got every comment meanwhile (checked batch by batch above).
    stalled.close()
    await host.close()
    await reader.close()
