"""A real STUN server on loopback that answers Binding requests after a delay.

With it in MEDIA_ICE_SERVERS, the relay's answer waits for its server-reflexive candidate (aioice
gathers before answering), so a WHIP/WHEP negotiation takes as long as on a real network, where
that round trip and ICE gathering take seconds: the gap that check-then-act bugs live in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aioice import stun


class _SlowStun(asyncio.DatagramProtocol):
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.transport: asyncio.DatagramTransport | None = None
        self.requests = 0
        self._pending: set[asyncio.TimerHandle] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # (a _SelectorDatagramTransport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            request = stun.parse_message(data)
        except ValueError:
            return
        if request.message_method != stun.Method.BINDING or request.message_class != stun.Class.REQUEST:
            return
        self.requests += 1
        response = stun.Message(
            message_method=stun.Method.BINDING,
            message_class=stun.Class.RESPONSE,
            transaction_id=request.transaction_id,
        )
        response.attributes["XOR-MAPPED-ADDRESS"] = addr
        handle = asyncio.get_running_loop().call_later(self.delay, self._send, bytes(response), addr)
        self._pending.add(handle)

    def _send(self, data: bytes, addr: Any) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)

    def close(self) -> None:
        for handle in self._pending:
            handle.cancel()
        if self.transport is not None:
            self.transport.close()


@asynccontextmanager
async def slow_stun(delay: float) -> AsyncIterator[str]:
    """A `stun:127.0.0.1:<port>` URL whose server answers after `delay` seconds."""
    loop = asyncio.get_running_loop()
    _transport, protocol = await loop.create_datagram_endpoint(lambda: _SlowStun(delay), local_addr=("127.0.0.1", 0))
    try:
        assert protocol.transport is not None
        port = protocol.transport.get_extra_info("sockname")[1]
        yield f"stun:127.0.0.1:{port}"
    finally:
        protocol.close()
