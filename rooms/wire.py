"""Room frames on the wire: each frame is encoded once, and written straight to daphne's socket.

A room event goes to thousands of sockets. Through ASGI each write costs a chain of coroutines
(consumer → session middleware → daphne → autobahn), a UTF-8 encoding and a websocket frame
header per socket, and Twisted then arms and disarms the socket for writing (two epoll_ctl
calls) before it sends. Here the hub wraps the text once in a `Frame` (a `str` that also holds
its encoded websocket frame), and a socket served by daphne writes those bytes to its TCP
connection itself: at once when nothing is queued before them, else behind what is queued, so
frames keep their order with everything else the socket sends through ASGI.

Anything else — a test communicator, TLS terminated by daphne, compression — takes the ASGI path.
So does every socket when daphne, autobahn, Twisted or channels no longer have what this module
reads of them: each has an adapter (liverooms/adapters/) probed at start-up, which says so loudly.
A viewer who stops reading is cut off once too much is queued for them (they resume losslessly
with `?after=<seq>`), instead of the server buffering for them without bound.
"""

from __future__ import annotations

import functools
import logging
import struct
from collections.abc import Callable
from typing import Any

from autobahn.websocket.protocol import WebSocketProtocol as AutobahnProtocol
from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings
from twisted.internet.tcp import Connection

from liverooms.adapters import autobahn_ws, channels_asgi, daphne_ws, twisted_tcp

logger = logging.getLogger(__name__)
_OPEN = getattr(AutobahnProtocol, "STATE_OPEN", 3)  # checked by autobahn_ws at start-up
_ADAPTERS = (daphne_ws.ADAPTER, autobahn_ws.ADAPTER, twisted_tcp.ADAPTER, channels_asgi.ADAPTER)


def direct_path_on() -> bool:
    """Whether every package this module leans on still has what it reads (else ASGI it is)."""
    return all(adapter.usable() for adapter in _ADAPTERS)


class Frame(str):
    """A frame's text, as sockets receive it, and (made once, on first use) its bytes on the
    wire: an unmasked, unfragmented websocket text frame."""

    @functools.cached_property
    def wire(self) -> bytes:
        payload = self.encode()
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x81, size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x81, 126, size)
        else:
            header = struct.pack("!BBQ", 0x81, 127, size)
        return header + payload


class DirectSocket:
    """Writes frames to one daphne websocket connection's TCP transport."""

    def __init__(self, protocol: WebSocketProtocol, transport: Connection) -> None:
        self.protocol = protocol
        self.transport = transport

    @classmethod
    def find(cls, send: Callable[..., Any] | None) -> DirectSocket | None:
        """The daphne connection behind an ASGI `send` (through the session middleware's
        wrapper), if it is a plain TCP websocket without compression; None otherwise."""
        if not direct_path_on():
            return None
        target: Any = send
        for _ in range(8):
            if isinstance(target, functools.partial):
                protocol = next((a for a in target.args if isinstance(a, WebSocketProtocol)), None)
                if protocol is not None:
                    return cls._for(protocol)
                target = target.func
            elif hasattr(getattr(target, "__self__", None), "real_send"):
                target = target.__self__.real_send  # channels.sessions.InstanceSessionWrapper.send
            else:
                return None
        return None

    @classmethod
    def _for(cls, protocol: WebSocketProtocol) -> DirectSocket | None:
        transport = getattr(protocol, "transport", None)
        if not isinstance(transport, Connection):
            return None  # TLS, or some other transport: keep to the ASGI path
        if getattr(protocol, "_perMessageCompress", None) is not None:
            return None
        return cls(protocol, transport)

    def write(self, frame: Frame) -> None:
        """Send the frame now if nothing waits before it, else queue it behind what waits.
        (Runs once per socket per frame: kept to a few attribute reads and one send.)"""
        t = self.transport
        if self.protocol.state != _OPEN or not t.connected or t._writeDisconnected:
            return  # closing: the hub drops the socket when it disconnects
        data = frame.wire
        queued = len(t.dataBuffer) - t.offset + t._tempDataLen
        if queued == 0:
            try:
                sent = t.socket.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                sent = 0  # the connection is going: Twisted finds out on its next read or write
            if sent == len(data):
                return
            data = data[sent:]
        elif queued > settings.WEBSOCKET_MAX_QUEUED_BYTES:
            logger.info("cutting off %s: %d bytes unread", self.protocol.client_addr, queued)
            t.abortConnection()  # type: ignore[no-untyped-call]
            return
        t.write(data)  # type: ignore[no-untyped-call]  # behind what waits; sent when writable
