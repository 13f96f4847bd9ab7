"""A websocket client that does only what the fan-out benchmark's viewers need, cheaply.

With thousands of viewers on the same 2 cores as the server, the `websockets` client's per-message
work (a sans-I/O parser, a queue, one coroutine wake-up per message) costs more CPU than the
server under test spends per delivery, so the load generator, not the server, set the latency
figures. This client parses every frame that arrived in one `data_received` call in a loop and
hands each text payload to a callback; no task per socket. It speaks RFC 6455 as a client must:
masked frames out, unmasked frames in, pongs for pings, a close frame answered.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: FIN, `opcode`, a fresh mask key, the masked payload."""
    size = len(payload)
    if size < 126:
        header = bytes([0x80 | opcode, 0x80 | size])
    elif size < 1 << 16:
        header = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + size.to_bytes(8, "big")
    key = os.urandom(4)
    stream = (key * (size // 4 + 1))[:size]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(size, "big")
    return header + key + body


class LeanSocket(asyncio.Protocol):
    """One client websocket. `opened` resolves after the server's 101; every text frame's payload
    goes to `on_text(payload, now)`; `on_close()` runs once when the connection ends."""

    def __init__(self, host: str, path: str, origin: str, on_text: Callable[[bytes], None]) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
        ).encode()
        self.on_text = on_text
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.transport: asyncio.Transport | None = None
        self._upgraded = False
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if b" 101 " not in status:
                self._fail(ConnectionError(f"handshake refused: {status.decode(errors='replace')}"))
                return
            self._upgraded = True
            self.opened.set_result(None)
        start, end = 0, len(buffer)
        on_text = self.on_text
        while end - start >= 2:
            first, size = buffer[start], buffer[start + 1] & 0x7F
            head = 2
            if size == 126:
                if end - start < 4:
                    break
                size, head = int.from_bytes(buffer[start + 2 : start + 4], "big"), 4
            elif size == 127:
                if end - start < 10:
                    break
                size, head = int.from_bytes(buffer[start + 2 : start + 10], "big"), 10
            if end - start < head + size:
                break
            payload = bytes(buffer[start + head : start + head + size])
            start += head + size
            opcode = first & 0x0F
            if opcode == TEXT:
                on_text(payload)
            elif opcode == PING:
                self.send(PONG, payload)
            elif opcode == CLOSE:
                self.send(CLOSE, payload[:2])
                self.abort()
                return
        del buffer[:start]

    def send(self, opcode: int, payload: bytes) -> bool:
        if self.closed or self.transport is None:
            return False
        self.transport.write(masked_frame(opcode, payload))
        return True

    def send_text(self, payload: bytes) -> bool:
        return self.send(TEXT, payload)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))

    def _fail(self, error: Exception) -> None:
        if not self.opened.done():
            self.opened.set_exception(error)
        self.abort()


async def open_lean(url_host: str, port: int, path: str, origin: str, on_text: Callable[[bytes], None]) -> LeanSocket:
    loop = asyncio.get_running_loop()
    _transport, sock = await loop.create_connection(
        lambda: LeanSocket(f"{url_host}:{port}", path, origin, on_text), url_host, port
    )
    await asyncio.wait_for(sock.opened, 30)
    return sock
