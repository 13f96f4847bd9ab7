"""One hub per room per process: it holds the room's channel-layer subscription for every local
socket, and writes each event (serialised once, by its publisher) to all of them.

- **Ordered stream.** The hub hands sockets a gap-free, ordered run of the room's events. An event
  that arrives ahead of its predecessors (two processes' commits crossing in the channel layer, or
  a message the layer dropped) makes the hub read the missing ones from the stored stream first.
  A check once a second catches a lost last event too.
- **Reactions.** Sockets add to a local tally; every 200 ms the hub publishes its tally to the room
  group (one message per process) and adds it to the room's totals; every hub merges what it hears
  and writes one `reactions` frame to its sockets, at most every 200 ms.
- **Viewers.** Once a second the hub reports its socket count (rooms.presence) and, when the room's
  total changed, writes one `viewers` frame.
- **Presence and figures.** Every 10 s (and within a second of a new viewer) the hub notes who has a socket
  here, so the abandoned-room sweep leaves the host's room and the guests' seats alone, and adds
  its share of the room's figures (new viewers, peak count, reactions) for rooms.stats.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from channels.layers import get_channel_layer
from django.conf import settings
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from liverooms import layer
from liverooms.aio import background
from liverooms.db import db_async
from rooms import presence, stats
from rooms.actions import note_present
from rooms.events import events_after, room_group, to_text
from rooms.models import Room, Seat
from rooms.tally import add_to_totals
from rooms.throttle import TooManySockets
from rooms.wire import Frame

logger = logging.getLogger(__name__)

TICK = 0.2  # seconds between reaction flushes (at most; see reaction_ticks)
VIEWERS_EVERY = 5  # ticks (1 s)
PRESENCE_EVERY = 50  # ticks (10 s) between reports of who is here (presence, room figures)
RESUBSCRIBE_EVERY = 3000  # ticks (10 min): channel layers forget group members after a day
GAP_READ_LIMIT = 1000
RECONNECT_FIRST = 0.1  # seconds before the first retry of a lost channel layer, doubling...
RECONNECT_MAX = 2.0  # ...up to this


def reaction_ticks(sockets: int) -> int:
    """Ticks between `reactions` frames: every 200 ms for a small room, down to one a second for
    a crowd. A frame costs the same to write as a comment, and hearts only need to look alive."""
    if sockets <= 500:
        return 1
    if sockets <= 1000:
        return 2
    if sockets <= 2000:
        return 3
    return 5


class Socket(Protocol):
    """What the hub needs of a room socket (rooms.consumers.RoomConsumer)."""

    user_id: int | None
    viewer_key: str  # who is watching, for unique-viewer counts (rooms.stats.viewer_key)

    # `text` is a rooms.wire.Frame: the same object for every socket, encoded once if needed.
    async def on_event(self, seq: int, text: str) -> None: ...

    async def on_ephemeral(self, text: str) -> None: ...


@runtime_checkable
class Viewer(Socket, Protocol):
    """A viewer's socket (rooms.consumers.RoomConsumer), which can also take a frame at once."""

    address: str  # the client address (liverooms.clients.scope_key): sockets are capped per address

    def write_now(self, seq: int | None, frame: Frame) -> bool:
        """Write the frame without awaiting if the socket can (its direct path, nothing
        buffered); False if it must go through `on_event` / `on_ephemeral` instead."""
        ...


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
        self.watchers: set[Socket] = set()  # in-process listeners (the media relay): not counted
        self.last_seq = 0
        self.ended = False
        self.viewers = 0
        self.stage: dict[int, int | None] = {}  # seat index -> user id: the stage is not counted
        self._presence_failing = False
        self.speaking: list[int] = []  # the last `speaking` set heard (media.speaking)
        self._layer = get_channel_layer()
        self._channel = ""
        self._epoch = ""  # the run of the layer's Redis this hub joined its group on (liverooms.layer)
        self._tasks: list[asyncio.Task[None]] = []
        self._outgoing: Counter[str] = Counter()  # reactions of local sockets, not yet published
        self._incoming: Counter[str] = Counter()  # reactions heard from every process, not yet written
        # Room figures since the last report (rooms.stats): new viewers, peak count, local reactions.
        self._reported_keys: set[str] = set()
        self._new_keys: set[str] = set()  # viewers who joined since the last report
        self._peak = 0
        self._reacted: Counter[str] = Counter()
        # The highest viewer count written to the room's figures; a higher one observed (a join,
        # a seat vacated, the room's total) is written at once, so a live that ends within a
        # second of its audience arriving still has its peak on the recap.
        self._recorded_peak = 0
        self._count_changed = False

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe first, then read where the stream stands: nothing falls in between."""
        self._channel = await self._layer.new_channel()
        await self._subscribe()
        self.last_seq, status = await _room_position(self.room_id)
        self.ended = status == Room.Status.ENDED
        self.stage = await _stage(self.room_id)
        self._tasks = [background(self._read()), background(self._tick())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self._publish_reactions()
        except Exception as error:  # the layer is down: the last hearts are lost, the hub still stops
            logger.warning("room %s: could not publish the last reactions: %s", self.room_id, _cause(error))
        with contextlib.suppress(Exception):
            await self._report_presence()
        try:
            await self._layer.group_discard(room_group(self.room_id), self._channel)
        except Exception as error:  # the layer is down: its membership expires by itself
            logger.warning("room %s: could not leave the room group: %s", self.room_id, _cause(error))
        with contextlib.suppress(Exception):
            await presence.withdraw(self.room_id)

    async def _subscribe(self) -> None:
        """Join the room's group (again: it is idempotent), noting which run of Redis holds it."""
        epoch = await layer.epoch()
        await self._layer.group_add(room_group(self.room_id), self._channel)
        self._epoch = epoch

    async def _group_lost(self) -> bool:
        """Whether the layer's Redis restarted since the hub joined (and so forgot the group)."""
        return await layer.epoch() != self._epoch

    # --- what sockets call -----------------------------------------------------------------

    def add_reaction(self, kind: str) -> None:
        self._outgoing[kind] += 1

    def count_viewers(self) -> int:
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
        self._count_changed = True
        if sock.viewer_key not in self._reported_keys:
            self._new_keys.add(sock.viewer_key)

    # --- the channel-layer side ------------------------------------------------------------

    async def _read(self) -> None:
        """Hand what the room's group hears to the sockets, for as long as the hub lives. A lost
        layer (Redis restarting, a network blip) does not end it: see `_reconnect`."""
        while True:
            try:
                message = await self._layer.receive(self._channel)
            except Exception as error:
                await self._reconnect(error)
                continue
            try:
                await self._dispatch(message)
            except Exception:
                logger.exception("room %s: could not handle %s", self.room_id, message.get("type"))

    async def _reconnect(self, error: Exception) -> None:
        """Retry with back-off until the layer answers, then join the group again at once (a
        restarted Redis forgot it) and read what was missed from the stored stream. Meanwhile
        each retry delivers stored events too: the stream lives in the database, not in Redis."""
        logger.warning("room %s: channel layer lost, reconnecting: %s", self.room_id, _cause(error))
        lost_at, delay, attempts = time.monotonic(), RECONNECT_FIRST, 0
        while True:
            await asyncio.sleep(delay)
            attempts += 1
            with contextlib.suppress(Exception):
                await self._read_stored()
            try:
                await self._subscribe()
            except Exception as again:
                delay = min(delay * 2, RECONNECT_MAX)
                if attempts % 10 == 0:
                    logger.warning("room %s: channel layer still down: %s", self.room_id, _cause(again))
                continue
            break
        with contextlib.suppress(Exception):
            await self._read_stored()
        logger.warning(
            "room %s: channel layer back after %.1f s; joined the room group again",
            self.room_id,
            time.monotonic() - lost_at,
        )

    async def _read_stored(self) -> None:
        """Deliver the stored events after `last_seq`, each only if it is still the next one (the
        timer's catch-up may be delivering the same ones meanwhile)."""
        for frame in await db_async(events_after)(self.room_id, self.last_seq, limit=GAP_READ_LIMIT):
            if frame["seq"] == self.last_seq + 1:
                await self._deliver(frame["seq"], frame["type"], to_text(frame))

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "room.event":
            await self._on_event(int(message["seq"]), message["event"], message["text"])
        elif kind == "room.direct":
            frame = Frame(message["text"])
            to = set(message["user_ids"]) if "user_ids" in message else {message["user_id"]}
            for sock in [s for s in self.sockets if s.user_id in to]:
                await self._write(sock, frame)
        elif kind == "room.broadcast":
            if message["text"].startswith('{"type":"speaking"'):
                self.speaking = json.loads(message["text"])["seats"]  # for room.state of late joiners
            await self._broadcast_text(message["text"])
        elif kind == "room.reactions":
            self._incoming.update({k: int(v) for k, v in message["counts"].items()})

    async def _on_event(self, seq: int, event: str, text: str) -> None:
        if seq <= self.last_seq:
            return  # already delivered (read from the stream to fill a gap)
        if seq > self.last_seq + 1:
            await self._fill_gap()
            if seq <= self.last_seq:
                return
        await self._deliver(seq, event, text)

    async def _fill_gap(self) -> None:
        frames = await db_async(events_after)(self.room_id, self.last_seq, limit=GAP_READ_LIMIT)
        for frame in frames:
            await self._deliver(frame["seq"], frame["type"], to_text(frame))

    async def _deliver(self, seq: int, event: str, text: str) -> None:
        self.last_seq = seq
        self.ended = self.ended or event == "room.ended"
        if event == "seat.updated":
            seat = json.loads(text)["seat"]
            self.stage[seat["index"]] = seat["user"]["id"] if seat["user"] else None
            self._count_changed = True
        frame = Frame(text)
        # Most sockets take the frame at once (no coroutine per socket); the rest are awaited.
        waiting: list[Socket] = []
        for sock in list(self.sockets):
            try:
                if not sock.write_now(seq, frame):
                    waiting.append(sock)
            except Exception:
                self._drop(sock)
        for listener in [*waiting, *self.watchers]:
            try:
                await listener.on_event(seq, frame)
            except Exception:
                self._drop(listener)

    async def _write(self, sock: Viewer, text: Frame) -> None:
        try:
            if not sock.write_now(None, text):
                await sock.on_ephemeral(text)
        except Exception:
            self._drop(sock)

    def _drop(self, sock: Socket) -> None:
        """A socket that failed a send (one closing mid-send, channels #1820) leaves; the others go on.
        Called while handling the failure: the log names its cause (the traceback at DEBUG)."""
        error = sys.exc_info()[1]
        who = f"user {sock.user_id}" if sock.user_id is not None else "an anonymous viewer"
        logger.warning(
            "room %s: dropping %s (%s): %s", self.room_id, who, type(sock).__name__, _cause(error) if error else "?"
        )
        logger.debug("room %s: the failed send", self.room_id, exc_info=True)
        self.forget(sock)

    def forget(self, sock: Socket) -> None:
        self.watchers.discard(sock)
        if isinstance(sock, Viewer):
            self.sockets.discard(sock)

    async def _broadcast(self, frame: dict[str, Any]) -> None:
        await self._broadcast_text(to_text(frame))

    async def _broadcast_text(self, text: str) -> None:
        frame = Frame(text)
        for sock in list(self.sockets):
            await self._write(sock, frame)

    # --- timers ----------------------------------------------------------------------------

    async def _tick(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(TICK)
            ticks += 1
            try:
                await self._publish_reactions()
                if self._count_changed:
                    self._count_changed = False
                    await self._observe_peak(self.count_viewers())
                for pending, run in _TICK_WORK:
                    if pending(self.room_id):
                        await db_async(run)(self.room_id)
                if self._incoming and ticks % reaction_ticks(len(self.sockets)) == 0:
                    counts, self._incoming = dict(self._incoming), Counter()
                    await self._broadcast({"type": "reactions", "counts": counts})
                if ticks % VIEWERS_EVERY == 0:
                    await self._refresh_viewers()
                    await self._catch_up()
                if ticks % RESUBSCRIBE_EVERY == 0 or (ticks % VIEWERS_EVERY == 0 and await self._group_lost()):
                    await self._subscribe()
                # Every 10 s, and within a second of someone new arriving.
                due = ticks % PRESENCE_EVERY == 0 or (self._new_keys and ticks % VIEWERS_EVERY == 0)
                if due and not self.ended:
                    await self._report_presence()
            except Exception:
                logger.exception("room %s: hub tick failed", self.room_id)

    async def _publish_reactions(self) -> None:
        """Send the local tally to every process and add it to the totals. With the layer down
        the tally is dropped (reactions are ephemeral; a burst of stale hearts after an outage
        would be wrong) but still counted in the room's figures."""
        if not self._outgoing:
            return
        counts, self._outgoing = dict(self._outgoing), Counter()
        self._reacted.update(counts)
        await self._layer.group_send(room_group(self.room_id), {"type": "room.reactions", "counts": counts})
        await add_to_totals(room_id=self.room_id, counts=counts)

    async def _report_presence(self) -> None:
        """Tell the database who is here (keeps the host's room and guests' seats from the
        abandoned sweep) and add this process's share of the room figures."""
        sockets = list(self.sockets)
        keys, self._new_keys = self._new_keys - self._reported_keys, set()
        user_ids = {sock.user_id for sock in sockets if sock.user_id is not None}
        peak, reacted = max(self._peak, self.viewers, self.count_viewers()), dict(self._reacted)
        self._peak, self._reacted = 0, Counter()
        await db_async(_report_presence)(self.room_id, self.host_id, user_ids, keys, peak, reacted)
        self._reported_keys |= keys

    async def _refresh_viewers(self) -> None:
        try:
            total = await presence.report(self.room_id, self.count_viewers())
        except (RedisError, OSError) as error:
            # Redis is away (the reader is reconnecting): say so once, not every second.
            if not self._presence_failing:
                logger.warning("room %s: cannot count viewers across processes: %s", self.room_id, error)
            self._presence_failing = True
            return
        self._presence_failing = False
        await self._observe_peak(total)
        if total != self.viewers:
            self.viewers = total
            await self._broadcast({"type": "viewers", "count": total})

    async def _observe_peak(self, count: int) -> None:
        """A viewer count seen (this process's, or the room's total): a new high goes to the
        room's figures now, not at the next report (which a room that ended skips)."""
        self._peak = max(self._peak, count)
        if count > self._recorded_peak:
            self._recorded_peak = count
            await db_async(stats.record_peak)(room_id=self.room_id, viewers=count)

    async def _catch_up(self) -> None:
        """Deliver stored events the channel layer never brought (a lost last message)."""
        newest, _status = await _room_position(self.room_id)
        if newest > self.last_seq:
            await self._fill_gap()


def _cause(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


@db_async
def _stage(room_id: int) -> dict[int, int | None]:
    return dict(Seat.objects.filter(room_id=room_id).values_list("index", "user_id"))


@db_async
def _room_position(room_id: int) -> tuple[int, str]:
    last_seq, status = Room.objects.values_list("last_seq", "status").get(pk=room_id)
    return last_seq, status


def _report_presence(
    room_id: int, host_id: int, user_ids: set[int], keys: set[str], peak: int, reacted: dict[str, int]
) -> None:
    note_present(room_id=room_id, host_id=host_id, user_ids=user_ids)
    stats.record_presence(room_id=room_id, viewer_keys=keys, viewers=peak, reactions=reacted)


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


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hubs] = weakref.WeakKeyDictionary()


def hubs() -> Hubs:
    loop = asyncio.get_running_loop()
    if loop not in _by_loop:
        _by_loop[loop] = Hubs()
    return _by_loop[loop]
