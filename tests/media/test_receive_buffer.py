"""What a publisher sends lands in a large receive buffer: a busy moment of the relay's event loop
does not cost every viewer the frames up to the next key frame (media/sockets.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from media.relay import RoomRelay
from media.sockets import ice_sockets, raise_receive_buffers
from tests.media.peers import Publisher, Viewer, wait_for


def rmem_max() -> int:
    return int(Path("/proc/sys/net/core/rmem_max").read_text())


def rcvbuf(sock: socket.socket) -> int:
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


def default_rcvbuf() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        return rcvbuf(sock)


@pytest.mark.skipif(rmem_max() <= default_rcvbuf(), reason="the kernel allows no more than its default buffer")
async def test_publisher_sockets_get_a_large_receive_buffer_and_viewers_do_not(settings) -> None:
    settings.MEDIA_RECEIVE_BUFFER = 2 * 1024 * 1024
    relay = RoomRelay("room-buffers", forwarding=True)
    publisher, viewer = Publisher(0), Viewer(4)
    try:
        _session_id, answer = await relay.publish(0, await publisher.offer())
        await publisher.accept(answer)
        await viewer.start(relay)
        await wait_for(lambda: viewer.pc.connectionState == "connected", what="viewer connected")
        sessions = {s.role: s for s in relay._sessions.values()}
        published = ice_sockets(sessions["publisher"].pc)
        watched = ice_sockets(sessions["viewer"].pc)
        assert published
        assert watched
        wanted = min(settings.MEDIA_RECEIVE_BUFFER, rmem_max())
        # (Linux doubles the size asked for, for its own bookkeeping)
        assert all(rcvbuf(sock) >= wanted for sock in published)
        assert all(rcvbuf(sock) < wanted for sock in watched)  # a viewer's peer only sends media
    finally:
        await publisher.close()
        await viewer.close()
        await relay.close()


async def test_a_peer_without_sockets_yet_is_left_alone() -> None:
    publisher = Publisher(0)  # no offer made: nothing gathered
    try:
        assert raise_receive_buffers(publisher.pc, 1 << 20) == 0
    finally:
        await publisher.close()
