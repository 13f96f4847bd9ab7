"""Media tests' shared fixtures and teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from channels.db import database_sync_to_async
from django.db import connections

from media import services


@pytest.fixture(autouse=True)
async def _close_orm_thread_connections() -> AsyncIterator[None]:
    """An async test's ORM calls run in asgiref's executor thread, whose connection outlives the test
    (PostgreSQL: the test database then stays "in use" when pytest-django drops it). Close it."""
    yield
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
async def relays() -> AsyncIterator[None]:
    """Tests that go through the media views close every relay they opened."""
    yield
    await services.close_all()
