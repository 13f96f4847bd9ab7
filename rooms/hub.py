"""One hub per room per process: it holds the room's channel-layer subscription for every local
socket, and writes each event (serialised once, by its publisher) to all of them.

The hub ties together parts with one job each, and runs the room's timer:

- rooms.subscription: the one subscription to the room's group, and reading it through outages.
- rooms.delivery: the ordered, gap-free stream to the sockets, and every other write to them.
- rooms.tally: reactions, coalesced (published every 200 ms, one `reactions` frame at most every
  200 ms to a small room).
- rooms.audience: the viewer count (once a second), presence and the room's figures (every 10 s,
  and within a second of a new viewer).
- work other apps run on every tick (`register_tick`: coalesced question votes).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from liverooms import metrics
from liverooms.aio import background, cancel_and_wait
from liverooms.db import db_async
from liverooms.process import PerLoop
from rooms.audience import Audience
from rooms.delivery import Delivery, Socket, Viewer, room_position
from rooms.models import Room, Seat
from rooms.subscription import Subscription, cause, logger
from rooms.tally import ReactionTally, reaction_ticks
from rooms.throttle import TooManySockets

__all__ = ["Hubs", "RoomHub", "Socket", "Viewer", "hubs", "reaction_ticks", "register_tick"]

TICK = 0.2  # seconds between reaction flushes (at most; see reaction_ticks)
VIEWERS_EVERY = 5  # ticks (1 s)
PRESENCE_EVERY = 50  # ticks (10 s) between reports of who is here (presence, room figures)
RESUBSCRIBE_EVERY = 3000  # ticks (10 min): channel layers forget group members after a day

# Work other apps do on every tick of a room's hub (comments: coalesced question votes). Each is
# (pending, run): `pending(room_id)` is a cheap in-process check; `run(room_id)` does the database
# work in a worker thread, only when pending. Registered from AppConfig.ready.
_TICK_WORK: list[tuple[Callable[[int], bool], Callable[[int], object]]] = []


def register_tick(run: Callable[[int], object], *, pending: Callable[[int], bool]) -> None:
    _TICK_WORK.append((pending, run))


class RoomHub:
    def __init__(self, room_id: int, host_id: int) -> None:
        self.room_id = room_id
        self.host_id = host_id
        self.sockets: set[Viewer] = set()  # viewers' sockets: counted as viewers
        self.stage: dict[int, int | None] = {}  # seat index -> user id: the stage is not counted
        self._subscription = Subscription(room_id)
        self._delivery = Delivery(room_id, self.sockets, self.stage)
        self._tally = ReactionTally(room_id)
        self._audience = Audience(room_id, host_id, self.sockets, self.stage)
        self._tasks: list[asyncio.Task[None]] = []

    # --- what the parts know -----------------------------------------------------------------

    @property
    def watchers(self) -> set[Socket]:
        """In-process listeners (the media relay): not counted."""
        return self._delivery.watchers

    @property
    def last_seq(self) -> int:
        return self._delivery.last_seq

    @property
    def ended(self) -> bool:
        return self._delivery.ended

    @property
    def speaking(self) -> list[int]:
        """The last `speaking` set heard (media.speaking), for room.state of late joiners."""
        return self._delivery.speaking

    @property
    def viewers(self) -> int:
        """The room's viewer total across processes, as last heard."""
        return self._audience.viewers

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe first, then read where the stream stands: nothing falls in between."""
        await self._subscription.open()
        self._delivery.last_seq, status = await room_position(self.room_id)
        self._delivery.ended = status == Room.Status.ENDED
        self.stage.update(await _stage(self.room_id))
        self._tasks = [
            background(self._subscription.read(self._dispatch, self._delivery.read_stored)),
            background(self._tick()),
        ]

    async def stop(self) -> None:
        for error in await cancel_and_wait(self._tasks):
            logger.error("room %s: a hub task had failed: %s", self.room_id, cause(error), exc_info=error)
        try:
            await self._publish_reactions()
        except Exception as error:  # the layer is down: the last hearts are lost, the hub still stops
            logger.warning("room %s: could not publish the last reactions: %s", self.room_id, cause(error))
        with contextlib.suppress(Exception):
            await self._report_presence()
        await self._subscription.close()
        with contextlib.suppress(Exception):
            await self._audience.withdraw()

    # --- what sockets call -----------------------------------------------------------------

    def add_reaction(self, kind: str) -> None:
        self._tally.add(kind)

    def count_viewers(self) -> int:
        """The people watching here (rooms.audience.Audience.count)."""
        return self._audience.count()

    def sockets_from(self, address: str) -> int:
        return self._audience.sockets_from(address)

    def noticed(self, sock: Viewer) -> None:
        """A viewer joined: count them (and their presence) at the next report."""
        self._audience.noticed(sock)

    def forget(self, sock: Socket) -> None:
        self._delivery.forget(sock)

    # --- what the room's group brings ------------------------------------------------------

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "room.event":
            await self._delivery.on_event(int(message["seq"]), message["event"], message["text"])
            metrics.event_latency(message.get("at"))
        elif kind == "room.direct":
            to = set(message["user_ids"]) if "user_ids" in message else {message["user_id"]}
            await self._delivery.direct(to, message["text"])
        elif kind == "room.broadcast":
            await self._delivery.broadcast_text(message["text"])
        elif kind == "room.reactions":
            self._tally.heard({k: int(v) for k, v in message["counts"].items()})

    async def _deliver(self, seq: int, event: str, text: str) -> None:
        await self._delivery.deliver(seq, event, text)

    # --- the timer ---------------------------------------------------------------------------

    async def _tick(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(TICK)
            ticks += 1
            try:
                await self._publish_reactions()
                if self._delivery.stage_changed:
                    self._delivery.stage_changed = False
                    self._audience.count_changed = True
                await self._audience.recount()
                for pending, run in _TICK_WORK:
                    if pending(self.room_id):
                        await db_async(run)(self.room_id)
                if (frame := self._tally.frame_due(ticks, len(self.sockets))) is not None:
                    await self._delivery.broadcast(frame)
                if ticks % VIEWERS_EVERY == 0:
                    await self._audience.refresh(self._delivery.broadcast)
                    await self._delivery.catch_up()
                if ticks % RESUBSCRIBE_EVERY == 0 or (ticks % VIEWERS_EVERY == 0 and await self._subscription.lost()):
                    await self._subscription.subscribe()
                # Every 10 s, and within a second of someone new arriving.
                due = ticks % PRESENCE_EVERY == 0 or (self._audience.newcomers and ticks % VIEWERS_EVERY == 0)
                if due and not self.ended:
                    await self._report_presence()
            except Exception:
                logger.exception("room %s: hub tick failed", self.room_id)

    async def _publish_reactions(self) -> None:
        await self._tally.publish(self._subscription.publish)

    async def _report_presence(self) -> None:
        await self._audience.report(self._tally.take_reacted())


@db_async
def _stage(room_id: int) -> dict[int, int | None]:
    return dict(Seat.objects.filter(room_id=room_id).values_list("index", "user_id"))


class Hubs:
    """The hubs of one event loop (one daphne process has one loop)."""

    def __init__(self) -> None:
        self._hubs: dict[int, RoomHub] = {}
        self._lock = asyncio.Lock()

    async def join(self, room: Room, sock: Socket, *, viewer: bool = True) -> RoomHub:
        """Start receiving the room's events; `viewer=False` for in-process listeners."""
        async with self._lock:
            hub = self._hubs.get(room.pk)
            if viewer and isinstance(sock, Viewer):
                self._admit(hub, sock)
            if hub is None:
                hub = RoomHub(room.pk, room.host_id)
                await hub.start()
                self._hubs[room.pk] = hub
            if viewer:
                if not isinstance(sock, Viewer):
                    raise TypeError(f"{sock!r} cannot be a viewer")
                hub.sockets.add(sock)
                hub.noticed(sock)
            else:
                hub.watchers.add(sock)
            return hub

    def _admit(self, hub: RoomHub | None, sock: Viewer) -> None:
        """Refuse a viewer past the per-process or the per-address cap (before any hub is made)."""
        if sum(len(h.sockets) for h in self._hubs.values()) >= settings.ROOM_SOCKETS_PER_PROCESS:
            raise TooManySockets(_("This server is full; try again in a moment."))
        if hub is not None and hub.sockets_from(sock.address) >= settings.ROOM_SOCKETS_PER_ADDRESS:
            raise TooManySockets(_("Too many connections to this live from your address."))

    def all(self) -> list[RoomHub]:
        """Every hub of this loop (liverooms.metrics)."""
        return list(self._hubs.values())

    def get(self, room_id: int) -> RoomHub | None:
        """The room's hub in this process, if any socket here watches the room."""
        return self._hubs.get(room_id)

    async def leave(self, room_id: int, sock: Socket) -> None:
        async with self._lock:
            hub = self._hubs.get(room_id)
            if hub is None:
                return
            hub.forget(sock)
            if not hub.sockets and not hub.watchers:
                del self._hubs[room_id]
                await hub.stop()


_hubs = PerLoop(Hubs)


def hubs() -> Hubs:
    """The running loop's hubs (liverooms.process: one set per loop, forgotten by its reset)."""
    return _hubs.get()


def read_figures(snapshot: metrics.Snapshot) -> None:
    """This process's hubs, for /metrics (registered from rooms.apps): live rooms, sockets, viewers
    counted here and the channel-layer messages each hub has not read yet."""
    from channels.layers import get_channel_layer

    buffers = metrics.receive_buffers(get_channel_layer())
    for hub in hubs().all():
        if not hub.ended:
            snapshot.rooms += 1
        snapshot.sockets += len(hub.sockets)
        snapshot.viewers[hub.room_id] = hub.count_viewers()
        queue = buffers.get(getattr(hub, "_channel", ""))
        snapshot.backlog[hub.room_id] = queue.qsize() if queue is not None else 0
