"""Glue between the rooms and the media relay of this process.

- `relay_for(room)` gives the room's relay, creating it on first use. The relay hears the room's
  events like a socket does (rooms.hub), so a camera or mic turned off anywhere (any process, the
  admin) stops that track at the relay; a seat vacated ends its publisher; `room.ended` closes
  every peer. Like a client (Zulip's register): it subscribes first, then reads the seats, then
  applies the events that came meanwhile; until then the relay forwards nothing, so a mute
  committed while the relay is being created is never forwarded, not even its first frames.
- The relay reports when a seat's media starts or stops flowing; that becomes the seat's
  `publishing` state through rooms.seats.set_publishing (a `seat.updated` for everyone).
- Who publishes a seat, and with which token, is the relay's (`RoomRelay.publisher`): a new token
  for the seat (`seat.token`, which every process's hub hears) ends a stream published with an
  older one wherever it runs, and a vacated seat ends its stream.
- What this does is kept per event loop (liverooms.process.PerLoop): the loop's `relays()`, each
  room's RoomMedia, the closes under way; a test's loop never meets another's.
- In a cluster (media.origin), `origin_media` makes this process the room's origin (it holds
  the lease and renews it; losing it closes the room's media here) and `viewer_media` makes it
  an edge when another process is the origin (one `media.edge.Upstream` feeds the relay).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings

from liverooms import metrics
from liverooms.aio import background, cancel_and_wait
from liverooms.db import db_async
from liverooms.process import PerLoop
from media import lease, origin, speaking_time
from media.edge import Upstream
from media.ice import ice_servers
from media.recording import recorder as recording
from media.relay import PeerLimits, Relays, RoomRelay
from rooms import seats
from rooms.catalogue import ROOM_ENDED, SEAT_TOKEN, SEAT_UPDATED, SPEAKING
from rooms.events import broadcast
from rooms.hub import hubs
from rooms.models import Room, Seat

logger = logging.getLogger(__name__)


@dataclass(eq=False)  # hashed by identity: it sits in the hub's set of listeners
class RoomMedia:
    """The relay of one room in this process, and what it is listening to."""

    room: Room
    relay: RoomRelay
    user_id: int | None = None  # (rooms.hub.Socket) not a user's socket
    viewer_key: str = "media-relay"  # (rooms.hub.Socket) a watcher: never counted as a viewer
    # Events heard before the seats were read (None once they have been, and events apply at once).
    early: list[tuple[int, str]] | None = field(default_factory=list)
    # Bumped whenever a seat is vacated (per seat index): a WHIP negotiation that started before
    # and ends after a bump publishes for someone no longer there (views.whip refuses it).
    vacated: dict[int, int] = field(default_factory=dict)
    # Bumped whenever a seat's token is replaced (per seat index), likewise.
    rotated: dict[int, int] = field(default_factory=dict)
    # In a cluster: the renewal of this process's origin lease, or the edge's subscription.
    lease: asyncio.Task[None] | None = None
    upstream: Upstream | None = None
    # Talk seconds per seat and user, from the relay's speaking detector (media.speaking_time).
    talk: speaking_time.TalkTally | None = None

    @property
    def is_origin(self) -> bool:
        """Whether this process serves the room as its origin (always, outside a cluster)."""
        return self.lease is not None or origin.registry() is None

    async def on_event(self, seq: int, text: str) -> None:
        if self.early is not None:
            self.early.append((seq, str(text)))
            return
        await self._apply(text)

    async def start(self, seats_seq: int, seats: list[Seat]) -> None:
        """The seats as read (after joining the hub) at stream position `seats_seq`: apply them, then
        every event heard since that is newer (a seat.updated carries the whole seat, so one
        applied twice changes nothing)."""
        for seat in seats:
            self.relay.set_forwarding(seat.index, video=seat.camera, audio=seat.mic)
            if self.talk is not None:
                self.talk.seated(seat.index, seat.user_id, publishing=seat.publishing)
        while self.early:
            seq, text = self.early.pop(0)
            if seq > seats_seq:
                await self._apply(text)
        self.early = None

    async def _apply(self, text: str) -> None:
        frame = json.loads(text)
        if frame["type"] == SEAT_UPDATED:
            seat = frame["seat"]
            self.relay.set_forwarding(seat["index"], video=seat["camera"], audio=seat["mic"])
            if seat["user"] is None:
                self.vacated[seat["index"]] = self.vacated.get(seat["index"], 0) + 1
                await self.relay.end_publisher(seat["index"])
            if self.talk is not None:
                self.talk.seated(seat["index"], (seat["user"] or {}).get("id"), publishing=seat["publishing"])
        elif frame["type"] == ROOM_ENDED:
            # Not inline: closing leaves the hub, which may stop the very task delivering this.
            task = asyncio.create_task(close_room_media(self.room.pk))
            _keep(task)

    async def on_ephemeral(self, text: str) -> None:
        """Frames for some users only (rooms.delivery gives in-process listeners those too): a
        seat's new token (`seat.token`, to its holder, from whichever process made it) ends a
        stream published here with an older one. The rest are for people, not the relay."""
        if not text.startswith(f'{{"type":"{SEAT_TOKEN}"'):
            return
        frame = json.loads(str(text))
        await self.token_is(int(frame["index"]), str(frame["whip"]["token"]))

    async def token_is(self, index: int, token: str) -> bool:
        """Seat `index`'s token is now `token`: end its stream if another token published it
        (a session-cookie publisher, or one with this very token, goes on)."""
        publisher = self.relay.publisher(index)
        if publisher is None or publisher.credential in (None, token):
            return False
        logger.info("room %s: seat %s has a new token; ending the stream made with an old one", self.room.pk, index)
        return await self.relay.end_session(publisher.session)

    def claim(self, index: int) -> tuple[int, int]:
        """Where seat `index` stands now (its vacate and token-rotation counts), to compare with
        `still_holds` once a WHIP offer's seconds-long negotiation is over."""
        return self.vacated.get(index, 0), self.rotated.get(index, 0)

    def still_holds(self, index: int, claim: tuple[int, int], *, token: str | None) -> bool:
        """Nothing heard since `claim` takes the seat from the publisher who claimed it: it was not
        vacated, and (for a bearer token) its token was not replaced."""
        vacated, rotated = self.claim(index)
        return vacated == claim[0] and (token is None or rotated == claim[1])

    async def revoke(self, index: int, token: str | None) -> bool:
        """The seat's token was replaced here: end the seat's stream if it was published with
        `token`, and refuse an offer made with it that is being answered."""
        self.rotated[index] = self.rotated.get(index, 0) + 1
        return token is not None and await self.relay.end_publisher(index, credential=token)


@dataclass(eq=False)
class _Here:
    """This event loop's media: its relays, each room's RoomMedia, the closes still running."""

    relays: Relays = field(default_factory=lambda: Relays(on_first_frame=metrics.first_frame))  # in /metrics
    rooms: dict[int, RoomMedia] = field(default_factory=dict)
    closing: set[asyncio.Task[None]] = field(default_factory=set)


_here = PerLoop(_Here)  # liverooms.process: one per event loop, forgotten by its reset


def relays() -> Relays:
    """This process's relays (of the running loop)."""
    return _here.get().relays


def _rooms() -> dict[int, RoomMedia]:
    return _here.get().rooms


def _keep(task: asyncio.Task[None]) -> None:
    """Hold a reference to a fire-and-forget task until it is done."""
    closing = _here.get().closing
    closing.add(task)
    task.add_done_callback(closing.discard)


def _key(room_id: int) -> str:
    return f"room-{room_id}"


async def relay_for(room: Room) -> RoomMedia:
    media = _rooms().get(room.pk)
    if media is not None:
        return media
    _close_on_shutdown()
    relay = relays().get(
        _key(room.pk),
        on_publishing=lambda index, on: _publishing(room.pk, index, on),
        on_speaking=lambda speaking: _speaking(room.pk, speaking),
        ice_servers=ice_servers(),
    )
    if relay.tap is None:
        recording.attach(relay, room.pk, room.slug)  # records the room's seats (media.recording)
    media = _rooms()[room.pk] = RoomMedia(room=room, relay=relay, talk=speaking_time.attach(relay, room.pk))
    lease.hold(room.pk, relay)
    try:
        # Subscribe first, then read: a seat change committed in between is in both, never in neither.
        await hubs().join(room, media, viewer=False)
        seats_seq, room_seats = await db_async(_seats_of)(room.pk)
        await media.start(seats_seq, room_seats)
    except BaseException:
        await close_room_media(room.pk)
        raise
    return media


def _speaking(room_id: int, seats: list[int]) -> None:
    """The relay heard the set of speaking seats change: tell every socket of the room."""
    task = asyncio.ensure_future(broadcast(room_id, {"type": SPEAKING, "seats": seats}))
    _keep(task)


def _seats_of(room_id: int) -> tuple[int, list[Seat]]:
    """The room's stream position, then its seats (read after it: they reflect at least that)."""
    seq = Room.objects.values_list("last_seq", flat=True).get(pk=room_id)
    return seq, list(Seat.objects.filter(room_id=room_id))


async def _publishing(room_id: int, index: int, on: bool) -> None:
    try:
        await db_async(seats.set_publishing)(room_id=room_id, index=index, publishing=on)
    except Exception:
        logger.exception("room %s: could not record seat %s publishing=%s", room_id, index, on)


async def origin_media(room: Room) -> RoomMedia:
    """The room's media here, as its origin (the caller holds the room's lease: `origin.Registry.claim`)."""
    media = await relay_for(room)
    registry = origin.registry()
    if registry is not None and media.lease is None:
        media.lease = background(_keep_lease(registry, room.pk))
        if media.upstream is not None:  # was an edge: local publishers feed it from now on
            upstream, media.upstream = media.upstream, None
            await upstream.stop()
    return media


async def viewer_media(room: Room) -> RoomMedia:
    """The room's media here for a viewer: the origin's relay, or an edge's fed by the origin."""
    media = await relay_for(room)
    registry = origin.registry()
    if registry is not None and media.lease is None and media.upstream is None:
        media.upstream = Upstream(
            room_id=room.pk,
            slug=room.slug,
            relay=media.relay,
            registry=registry,
            on_idle=lambda: _spawn(close_room_media(room.pk)),
            idle_after=settings.EDGE_IDLE_SECONDS,
            ice_servers=ice_servers(),
        )
        media.upstream.start()
    return media


async def _keep_lease(registry: origin.Registry, room_id: int) -> None:
    """Renew the room's origin lease while this process has its relay; stop being its origin
    (close its media here: publishers re-publish to the new origin) once the lease is lost."""
    while True:
        await asyncio.sleep(registry.renew_every)
        try:
            # Renewed; or it ran out unrenewed (this process stalled) and nobody took it meanwhile
            # (a process with this URL under another run id is not this one's past: no take-over).
            held = await registry.renew(room_id) or await registry.claim(room_id, take_over=False) == registry.me
        except Exception as error:  # Redis away: nobody else can take the lease either
            logger.warning("room %s: cannot renew the origin lease: %s", room_id, error)
            continue
        if not held:
            logger.warning("room %s: another process holds the origin lease now; closing its media here", room_id)
            media = _rooms().get(room_id)
            if media is not None:
                media.lease = None
            _spawn(close_room_media(room_id))
            return


def _spawn(coro: Any) -> None:
    task = asyncio.ensure_future(coro)
    _keep(task)


async def close_room_media(room_id: int) -> None:
    """Close every peer of the room in this process (room ended, or shutdown)."""
    media = _rooms().get(room_id)
    if media is None:
        return
    lease, media.lease = media.lease, None
    upstream, media.upstream = media.upstream, None
    if upstream is not None:
        await upstream.stop()
    if lease is not None:
        await cancel_and_wait([lease])  # ended before the release: a renewal after it would take the lease back
        registry = origin.registry()
        if registry is not None:
            try:
                await registry.release(room_id)
            except Exception as error:
                logger.warning("room %s: cannot release the origin lease: %s", room_id, error)
    await relays().close(_key(room_id))
    if media.talk is not None:  # after the relay: it counted every stretch of speech still going
        await media.talk.close()
    _rooms().pop(room_id, None)
    await hubs().leave(room_id, media)


async def close_all() -> None:
    for room_id in list(_rooms()):
        await close_room_media(room_id)
    await relays().close_all()


_shutdown_hooked = False


def _close_on_shutdown() -> None:
    """Under daphne (Twisted on asyncio), close every peer before the process exits, so
    publishers and viewers see the session end rather than time out."""
    global _shutdown_hooked
    if _shutdown_hooked or "twisted.internet.reactor" not in sys.modules:
        return
    from twisted.internet import defer, reactor

    def close() -> defer.Deferred[None]:
        return defer.Deferred.fromFuture(asyncio.ensure_future(close_all()))

    cast(Any, reactor).addSystemEventTrigger("before", "shutdown", close)
    _shutdown_hooked = True


def admit_viewer(room: Room, client: str | None, limits: PeerLimits) -> None:
    """Raise TooManyPeers now if a viewer from `client` would pass a limit (before the room's relay
    is even made; the relay checks again, and counts, when it creates the peer)."""
    media = _rooms().get(room.pk)
    relays().census.admit(media.relay if media is not None else None, "viewer", client, limits)


def media_of(room_id: int) -> RoomMedia | None:
    """The room's media in this process, if it has any."""
    return _rooms().get(room_id)
