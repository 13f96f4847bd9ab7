"""A socket the hub cannot write to leaves, and the log says who and why (at WARNING)."""

from __future__ import annotations

import logging

import pytest

from rooms.hub import RoomHub
from rooms.models import Room
from rooms.wire import Frame

pytestmark = pytest.mark.django_db(transaction=True)


class BrokenSocket:
    """A viewer whose connection went away mid-send (channels #1820)."""

    user_id = 7
    viewer_key = "user:7"
    address = "203.0.113.7"

    def write_now(self, seq: int | None, frame: Frame) -> bool:
        raise RuntimeError("Attempt to send on a closed protocol")

    async def on_event(self, seq: int, text: str) -> None:
        raise AssertionError("not reached")

    async def on_ephemeral(self, text: str) -> None:
        raise AssertionError("not reached")


class GoodSocket:
    user_id = None
    viewer_key = "anon:1"
    address = "203.0.113.1"

    def __init__(self) -> None:
        self.got: list[int | None] = []

    def write_now(self, seq: int | None, frame: Frame) -> bool:
        self.got.append(seq)
        return True

    async def on_event(self, seq: int, text: str) -> None:
        self.got.append(seq)

    async def on_ephemeral(self, text: str) -> None:
        self.got.append(None)


async def test_it_logs_a_dropped_viewer_at_warning_with_its_cause(room: Room, caplog: pytest.LogCaptureFixture) -> None:
    hub = RoomHub(room.pk, room.host_id)
    await hub.start()
    broken, good = BrokenSocket(), GoodSocket()
    hub.sockets |= {broken, good}
    try:
        with caplog.at_level(logging.WARNING, logger="rooms.hub"):
            await hub._deliver(hub.last_seq + 1, "comment.created", '{"type":"comment.created"}')
    finally:
        await hub.stop()
    assert broken not in hub.sockets
    assert good.got == [hub.last_seq]
    [record] = [r for r in caplog.records if r.name == "rooms.hub"]
    assert record.levelno == logging.WARNING
    assert "dropping user 7" in record.getMessage()
    assert "RuntimeError: Attempt to send on a closed protocol" in record.getMessage()
