"""Keep this process's `publishing` leases alive (rooms.seats.renew_publishing).

A seat's `publishing` flag is a lease of PUBLISHING_LEASE_SECONDS. While this process relays a
room's media, one loop renews, every PUBLISHING_RENEW_INTERVAL seconds, the leases of the seats
whose publishers are flowing here. If the process dies (SIGKILL, OOM, a lost machine) nobody
renews, and the sweep (rooms.seats.expire_publishing) turns those seats off with the usual
`seat.updated`: viewers stop waiting for a stream that is gone, and the abandoned-room rules apply
again. A seat whose lease lapsed while its media still flows here (the database was unreachable
for a whole lease) is said to be publishing again.

`hold(room_id, relay)` when a room's relay is made (media/services.py); a closed relay is let go
by itself.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from liverooms.aio import cancel_and_wait
from liverooms.db import db_async
from liverooms.process import PerLoop
from media.relay import RoomRelay
from rooms import seats
from rooms.models import SEAT_COUNT

logger = logging.getLogger(__name__)


class _Leases:
    """The rooms whose leases this loop renews, and the task renewing them."""

    def __init__(self) -> None:
        self.held: dict[int, RoomRelay] = {}
        self.task: asyncio.Task[None] | None = None


_leases = PerLoop(_Leases)  # liverooms.process: one per event loop


def hold(room_id: int, relay: RoomRelay) -> None:
    """Renew the leases of `relay`'s publishing seats from now on (starts the loop if needed)."""
    leases = _leases.get()
    leases.held[room_id] = relay
    if leases.task is None or leases.task.done():
        leases.task = asyncio.get_running_loop().create_task(_run(leases), name="publishing-lease")


def release(room_id: int) -> None:
    """The room's relay is closed: its seats' leases are no longer this process's to renew."""
    leases = _leases.peek()
    if leases is not None:
        leases.held.pop(room_id, None)


def publishing_seats(relay: RoomRelay) -> list[int]:
    return [index for index in range(SEAT_COUNT) if relay.is_publishing(index)]


async def renew(room_id: int, relay: RoomRelay) -> list[int]:
    """One renewal for one room; returns the seats said to be publishing again (lapsed leases)."""
    flowing = publishing_seats(relay)
    if not flowing:
        return []
    renewed = await db_async(seats.renew_publishing)(room_id=room_id, indexes=flowing)
    # Not renewed: not (or no longer) `publishing` in the database. If its media still flows here
    # now (checked after the round trip: a publisher that ended meanwhile is not revived), say so.
    lapsed = [index for index in flowing if index not in renewed and relay.is_publishing(index)]
    for index in lapsed:
        await db_async(seats.set_publishing)(room_id=room_id, index=index, publishing=True)
    return lapsed


async def renew_all() -> None:
    held = _leases.get().held
    for room_id, relay in list(held.items()):
        if relay.closed:  # room ended or shut down: its seats were said to stop when it closed
            if held.get(room_id) is relay:
                del held[room_id]
            continue
        try:
            await renew(room_id, relay)
        except Exception:
            # The database may be away: the lease lasts a few renewals, so the next one may do.
            logger.warning("room %s: could not renew the publishing lease", room_id, exc_info=True)


async def _run(leases: _Leases) -> None:
    try:
        while leases.held:
            await asyncio.sleep(settings.PUBLISHING_RENEW_INTERVAL)
            await renew_all()
    finally:
        if leases.task is asyncio.current_task():
            leases.task = None


async def stop() -> None:
    """Stop the loop (tests; shutdown closes every relay, which releases every room anyway)."""
    leases = _leases.peek()
    if leases is None:
        return
    leases.held.clear()
    task, leases.task = leases.task, None
    if task is not None:
        for error in await cancel_and_wait([task]):
            logger.error("the publishing-lease loop had failed", exc_info=error)
