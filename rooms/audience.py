"""Who watches a room from this process: the viewer count, presence and the room's figures.

- **Viewers.** Once a second the hub reports its count (rooms.presence) and, when the room's
  total changed, writes one `viewers` frame. Nobody on the stage is counted.
- **Presence and figures.** Every 10 s (and within a second of a new viewer) the hub notes who
  has a socket here, so the abandoned-room sweep leaves the host's room and the guests' seats
  alone, and adds its share of the room's figures (new viewers, peak count, reactions) for
  rooms.stats. A new viewer high is written as soon as it is seen (`observe_peak`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from liverooms.db import db_async
from rooms import presence, reaction_seconds, stats
from rooms.actions import note_present
from rooms.catalogue import VIEWERS
from rooms.delivery import Viewer
from rooms.subscription import logger


class Audience:
    def __init__(self, room_id: int, host_id: int, sockets: set[Viewer], stage: dict[int, int | None]) -> None:
        self.room_id = room_id
        self.host_id = host_id
        self.sockets = sockets  # the hub's viewers' sockets
        self.stage = stage  # the hub's seat index -> user id: the stage is not counted
        self.viewers = 0  # the room's total, across processes, as last heard
        self._presence_failing = False
        # Room figures since the last report (rooms.stats): new viewers, peak count.
        self._reported_keys: set[str] = set()
        self._new_keys: set[str] = set()  # viewers who joined since the last report
        self._peak = 0
        # The highest viewer count written to the room's figures; a higher one observed (a join,
        # a seat vacated, the room's total) is written at once, so a live that ends within a
        # second of its audience arriving still has its peak on the recap.
        self._recorded_peak = 0
        self.count_changed = False

    def count(self) -> int:
        """The people watching here: signed-in viewers once each however many tabs they have,
        anonymous sockets up to VIEWERS_COUNTED_PER_ADDRESS per address; nobody on the stage."""
        on_stage = set(self.stage.values())
        people: set[int] = set()
        anonymous: Counter[str] = Counter()
        for sock in self.sockets:
            if sock.user_id is None:
                anonymous[sock.address] += 1
            elif sock.user_id not in on_stage:
                people.add(sock.user_id)
        cap = settings.VIEWERS_COUNTED_PER_ADDRESS
        return len(people) + sum(min(count, cap) for count in anonymous.values())

    def sockets_from(self, address: str) -> int:
        return sum(1 for sock in self.sockets if sock.address == address)

    def noticed(self, sock: Viewer) -> None:
        """A viewer joined: count them (and their presence) at the next report."""
        self.count_changed = True
        if sock.viewer_key not in self._reported_keys:
            self._new_keys.add(sock.viewer_key)

    @property
    def newcomers(self) -> bool:
        return bool(self._new_keys)

    async def recount(self) -> None:
        """After a join or a seat change: a new local high goes to the room's figures."""
        if self.count_changed:
            self.count_changed = False
            await self.observe_peak(self.count())

    async def refresh(self, broadcast: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        """Report this process's count and learn the room's total; a changed total is broadcast."""
        try:
            total = await presence.report(self.room_id, self.count())
        except (RedisError, OSError) as error:
            # Redis is away (the reader is reconnecting): say so once, not every second.
            if not self._presence_failing:
                logger.warning("room %s: cannot count viewers across processes: %s", self.room_id, error)
            self._presence_failing = True
            return
        self._presence_failing = False
        await self.observe_peak(total)
        if total != self.viewers:
            self.viewers = total
            await broadcast({"type": VIEWERS, "count": total})

    async def observe_peak(self, count: int) -> None:
        """A viewer count seen (this process's, or the room's total): a new high goes to the
        room's figures now, not at the next report (which a room that ended skips)."""
        self._peak = max(self._peak, count)
        if count > self._recorded_peak:
            self._recorded_peak = count
            await db_async(stats.record_peak)(room_id=self.room_id, viewers=count)

    async def report(self, reacted: dict[str, int]) -> None:
        """Tell the database who is here (keeps the host's room and guests' seats from the
        abandoned sweep) and add this process's share of the room figures."""
        sockets = list(self.sockets)
        keys, self._new_keys = self._new_keys - self._reported_keys, set()
        user_ids = {sock.user_id for sock in sockets if sock.user_id is not None}
        peak = max(self._peak, self.viewers, self.count())
        self._peak = 0
        await db_async(_report_presence)(self.room_id, self.host_id, user_ids, keys, peak, reacted)
        self._reported_keys |= keys

    async def withdraw(self) -> None:
        await presence.withdraw(self.room_id)


def _report_presence(
    room_id: int, host_id: int, user_ids: set[int], keys: set[str], peak: int, reacted: dict[str, int]
) -> None:
    note_present(room_id=room_id, host_id=host_id, user_ids=user_ids)
    stats.record_presence(room_id=room_id, viewer_keys=keys, viewers=peak, reactions=reacted)
    reaction_seconds.flush(room_id=room_id)
