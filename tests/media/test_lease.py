"""The relay's process renews the `publishing` lease of the seats it receives (media/lease.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient, override_settings
from django.utils import timezone

from rooms import seats
from rooms.models import Room, Seat
from tests.media.peers import Publisher, publish_via_whip

pytestmark = pytest.mark.django_db(transaction=True)


async def seat0(room: Room) -> Seat:
    return await database_sync_to_async(Seat.objects.get)(room=room, index=0)


async def wait_until(room: Room, check, within: float = 10) -> Seat:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + within
    while not check(seat := await seat0(room)):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return seat


@override_settings(PUBLISHING_LEASE_SECONDS=1.0, PUBLISHING_RENEW_INTERVAL=0.2)
async def test_a_live_relay_keeps_renewing_and_reclaims_a_lapsed_lease(relays: None, room: Room) -> None:
    client = AsyncClient()
    publisher = Publisher(0)
    try:
        published = await publish_via_whip(client, room, publisher)
        first = await wait_until(room, lambda s: s.publishing)
        assert first.publishing_until is not None

        # Three leases' worth of time: renewed all along, so the sweep never finds it lapsed.
        for _ in range(6):
            await asyncio.sleep(0.5)
            assert await database_sync_to_async(seats.expire_publishing)() == 0
        renewed = await seat0(room)
        assert renewed.publishing
        assert renewed.publishing_until is not None
        assert renewed.publishing_until > first.publishing_until

        # The lease lapsed anyway (the database was away for a whole lease): the sweep turned it
        # off; the media still flows here, so the loop says so again within a renewal or two.
        far = timezone.now() + timedelta(hours=1)
        assert await database_sync_to_async(seats.expire_publishing)(now=far) == 1
        await wait_until(room, lambda s: s.publishing, within=3)

        # The publisher leaves: off, and not revived by the loop.
        assert (await client.delete(published["Location"])).status_code == 204
        await wait_until(room, lambda s: not s.publishing)
        await asyncio.sleep(1.0)
        assert not (await seat0(room)).publishing
    finally:
        await publisher.close()
