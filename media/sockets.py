"""Receive buffers of the relay's ingest sockets: what a publisher (or an edge's upstream) sends.

A packet lost on the way in is lost for every viewer of the seat, and a lost video packet costs
them every frame up to the next key frame; the kernel's default UDP receive buffer (208 KiB on
Debian) holds about half a second of a full room's four seats, less than one busy event-loop turn
can take when many viewers join at once. The buffer is raised when the peer's ICE sockets exist
(after the answer is made); the kernel caps it at `net.core.rmem_max` (docs/deploy.md).
"""

from __future__ import annotations

import logging
import socket
from typing import Any

logger = logging.getLogger(__name__)


def ice_sockets(pc: Any) -> list[socket.socket]:
    """The UDP sockets of `pc`'s ICE transports (one with max-bundle), once candidates are gathered."""
    found: list[socket.socket] = []
    seen: set[int] = set()
    for transceiver in pc.getTransceivers():
        ice = getattr(getattr(transceiver.receiver, "transport", None), "transport", None)
        connection = getattr(ice, "_connection", None)  # aioice's Connection (no public accessor)
        if connection is None or id(connection) in seen:
            continue
        seen.add(id(connection))
        for protocol in list(getattr(connection, "_protocols", [])):
            transport = getattr(protocol, "transport", None)
            sock = transport.get_extra_info("socket") if transport is not None else None
            if sock is not None:
                found.append(sock)
    return found


#: MEDIA_RECEIVE_BUFFER's default, for the bare relays of the media tests and benchmarks
DEFAULT_RECEIVE_BUFFER = 4 * 1024 * 1024


def receive_buffer_size() -> int:
    from django.conf import settings

    if not settings.configured:
        return DEFAULT_RECEIVE_BUFFER
    return int(getattr(settings, "MEDIA_RECEIVE_BUFFER", DEFAULT_RECEIVE_BUFFER))


def raise_receive_buffers(pc: Any, size: int | None = None) -> int:
    """Ask for `size` bytes (MEDIA_RECEIVE_BUFFER) of receive buffer on each of `pc`'s ICE sockets; the
    size the kernel gave the last one (it doubles the request for its bookkeeping and caps it at
    rmem_max), or 0 when it has none yet."""
    size = receive_buffer_size() if size is None else size
    given = 0
    for sock in ice_sockets(pc):
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
            given = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        except OSError as error:
            logger.warning("could not set a %d-byte receive buffer: %s", size, error)
    return given
