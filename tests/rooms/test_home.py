"""The home page lists live rooms with who is on stage and how many watch."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from rooms import seats
from rooms.models import Room
from tests.sockets import join

pytestmark = pytest.mark.django_db(transaction=True)


async def test_home_shows_the_stage_and_the_audience(room: Room, bob, carol) -> None:
    await database_sync_to_async(seats.seat_user)(room=room, user=bob, index=1)
    watchers = [await join(room, carol), await join(room)]
    while (await watchers[0].recv("viewers"))["count"] != 2:
        pass
    page = (await AsyncClient().get("/")).content.decode()
    assert page.count('class="mini-avatar"') == 2
    assert 'title="@bob">BO<' in page
    assert "2 of 4 on stage · 2 watching" in page
    for tab in watchers:
        await tab.close()
