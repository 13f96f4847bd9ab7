"""Media tests' shared fixtures and teardown: relays with no room behind them, the client peers a
test opens, and the relays the media views opened, all closed at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connections

from media import services
from media.relay import RoomRelay
from tests.media.peers import NewRelay, Peers


@pytest.fixture(autouse=True)
async def _close_orm_thread_connections() -> AsyncIterator[None]:
    """An async test's ORM calls run in asgiref's executor thread, whose connection outlives the test
    (PostgreSQL: the test database then stays "in use" when pytest-django drops it). Close it."""
    yield
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
async def new_relay() -> AsyncIterator[NewRelay]:
    """Makes relays with no room behind them (keyword arguments go to RoomRelay; `forwarding` is on
    unless said). At the end each is closed, and closing it must have ended every session."""
    made: list[RoomRelay] = []

    def new(**kwargs: Any) -> RoomRelay:
        made.append(RoomRelay(f"room-{len(made)}", **{"forwarding": True, **kwargs}))
        return made[-1]

    yield new
    for relay in made:
        await relay.close()
    assert [relay.session_count() for relay in made] == [0] * len(made)


@pytest.fixture
def relay(new_relay: NewRelay) -> RoomRelay:
    """One relay with no room behind it (see new_relay)."""
    return new_relay()


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    """The client peers of one test (`peers.add(Publisher(0))`), all closed at the end."""
    peers = Peers()
    try:
        yield peers
    finally:
        await peers.close()


@pytest.fixture
async def relays() -> AsyncIterator[None]:
    """Tests that go through the media views close every relay they opened."""
    yield
    await services.close_all()
