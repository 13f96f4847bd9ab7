"""Per-room media relay: WHIP publishers in, WHEP viewers out, encoded frames forwarded as-is.

Plain asyncio on top of aiortc; no Django. One `RoomRelay` per live room, kept in a per-process
`Relays` registry. Each publisher (one seat) and each viewer has its own `RTCPeerConnection`
(max-bundle). Publisher receivers feed `FrameSink`s (`media.passthrough`); every incoming frame
becomes ONE `av.Packet` shared by every viewer slot of that seat; viewer senders only pack it
into RTP. Video is VP8 or H.264 on either leg: a viewer slot whose negotiated codec differs from
the seat publisher's gets the output of the seat's one `Transcoder` for that codec
(`media.transcode`), shared by all such viewers. Nothing is ever decoded or encoded per viewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import inspect
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

from media import rtpsend
from media.dtls import explain_failure
from media.h264 import ParameterSets, is_h264_keyframe
from media.passthrough import FrameSink, SlotTrack, install_sink, pack_as_negotiated
from media.sdp import OfferedMedia, OfferError, parse_offer
from media.sockets import raise_receive_buffers
from media.speaking import OnSpeaking, SpeakingDetector
from media.transcode import Transcoder
from media.vp8 import (
    AUDIO_CLOCK_RATE,
    AUDIO_TIME_BASE,
    VIDEO_CLOCK_RATE,
    VIDEO_TIME_BASE,
    Vp8Packetizer,
    is_vp8_keyframe,
)

logger = logging.getLogger(__name__)

SEATS = 4
KINDS = ("audio", "video")
#: seconds a publisher may stay 'disconnected' (or send no RTP/RTCP at all) before it counts as gone
LOOP_LAG_TOLERANCE = 0.5  # seconds a liveness check may run late before it defers judgement
PUBLISHER_GRACE = 5.0
#: seconds a new session has to reach 'connected' before it is closed
CONNECT_TIMEOUT = 10.0
#: at most one key-frame request (PLI) per seat per this many seconds
KEYFRAME_INTERVAL = 0.5

CLOCK_RATE = {"video": VIDEO_CLOCK_RATE, "audio": AUDIO_CLOCK_RATE}
TIME_BASE = {"video": VIDEO_TIME_BASE, "audio": AUDIO_TIME_BASE}
MIN_STEP = {"video": 3000, "audio": 960}  # one frame at 30 fps / one 20 ms Opus frame

OnPublishing = Callable[[int, bool], Awaitable[None] | None]
#: seconds from a viewer's answer to the first video frame sent to it (once per viewer)
OnFirstFrame = Callable[[float], None]
IceServerSpec = RTCIceServer | dict[str, Any] | str


class BadOffer(Exception):
    """SDP offer we cannot use; str(exc) says what is missing (e.g. 'no VP8 video codec offered')."""


class SeatBusy(Exception):
    """The seat already has a publisher session (HTTP 409)."""


class RelayClosed(Exception):
    """The relay was closed (room ended / shutdown) before or while the session was negotiated."""


class TooManyPeers(Exception):
    """A peer limit is reached (HTTP 429); `retry_after` is the seconds after which trying again
    may succeed (unconnected peers are reaped by then), `limit` names the limit."""

    def __init__(self, limit: str, retry_after: float) -> None:
        super().__init__(f"too many peers: {limit}")
        self.limit = limit
        self.retry_after = retry_after


@dataclass(frozen=True)
class PeerLimits:
    """Caps on a process's peers (None: no cap). Viewers are refused past any of them; publishers
    (authenticated seat holders, at most 4 a room) are counted but never refused by these, so a
    flood of viewers cannot keep a room's host off the air."""

    per_address: int | None = None  # peers (pending + connected) from one client address
    per_room: int | None = None  # viewers of one room
    per_process: int | None = None  # viewers of every room of the process
    pending: int | None = None  # viewers not yet connected, every room of the process
    connect_timeout: float | None = None  # a peer not connected by then is closed (None: CONNECT_TIMEOUT)

    def reap_after(self, default: float = CONNECT_TIMEOUT) -> float:
        return self.connect_timeout if self.connect_timeout is not None else default


class Census:
    """The peers of every relay of a process, counted as they come and go (on the event loop, so
    a check and the count it makes happen without anything in between)."""

    def __init__(self) -> None:
        self.viewers = 0
        self.pending = 0  # viewers not yet connected
        self.peers = 0
        self.by_address: dict[str, int] = {}
        self.live: set[_Session] = set()  # every peer counted and not yet ended
        # RTP packets of the peers that ended (received from publishers, sent to viewers and edges)
        self.retired_in = 0
        self.retired_out = 0

    def admit(self, relay: RoomRelay | None, role: str, client: str | None, limits: PeerLimits) -> None:
        """Raise TooManyPeers if a new `role` peer from `client` would pass a limit (`relay`: the
        room's, for its cap; None to check the others only, before the room's relay exists)."""
        if role != "viewer":
            return
        retry = limits.reap_after()
        if limits.per_address is not None and client is not None and self.of(client) >= limits.per_address:
            raise TooManyPeers("per_address", retry)
        if limits.pending is not None and self.pending >= limits.pending:
            raise TooManyPeers("pending", retry)
        if limits.per_room is not None and relay is not None and relay.viewer_count() >= limits.per_room:
            raise TooManyPeers("per_room", retry)
        if limits.per_process is not None and self.viewers >= limits.per_process:
            raise TooManyPeers("per_process", retry)

    def add(self, session: _Session) -> None:
        self.peers += 1
        self.live.add(session)
        if session.role == "viewer":
            self.viewers += 1
            self.pending += 1
        if session.client is not None:
            self.by_address[session.client] = self.by_address.get(session.client, 0) + 1

    def connected(self, session: _Session) -> None:
        if session.role == "viewer":
            self.pending -= 1

    def remove(self, session: _Session, packets: tuple[int, int] = (0, 0)) -> None:
        """`session` ended, having received and sent `packets` (RTP)."""
        self.peers -= 1
        self.live.discard(session)
        self.retired_in += packets[0]
        self.retired_out += packets[1]
        if session.role == "viewer":
            self.viewers -= 1
            if not session.connected:
                self.pending -= 1
        if session.client is not None:
            left = self.by_address.get(session.client, 0) - 1
            if left > 0:
                self.by_address[session.client] = left
            else:
                self.by_address.pop(session.client, None)

    def of(self, client: str) -> int:
        return self.by_address.get(client, 0)


@dataclass
class RelayStats:
    """What relays hold now and have done since the process started (a `Relays.stats()` or one
    `RoomRelay.stats()`): read at scrape time (liverooms.metrics), never counted per packet."""

    relays: int = 0
    peers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (role, connection state) -> peers
    viewers: int = 0  # WHEP viewers (an edge's subscription is a peer, not a viewer)
    packets_in: int = 0  # RTP packets received from publishers
    packets_out: int = 0  # RTP packets sent to viewers and edges


@dataclass(frozen=True)
class SeatPublisher:
    """A seat's publisher session, as the relay holds it (`RoomRelay.publisher`)."""

    session: str  # its id (the WHIP resource's capability: never logged)
    credential: str | None  # what it published with (the seat's bearer token), None for a session cookie
    publishing: bool  # its media flows (connected), or it is still negotiating


async def _packet_counts(pc: RTCPeerConnection) -> tuple[int, int]:
    """(RTP packets received, sent) by a peer so far, from aiortc's statistics."""
    got = sent = 0
    for receiver in pc.getReceivers():
        got += _stat_sum(await receiver.getStats(), "inbound-rtp", "packetsReceived")
    for sender in pc.getSenders():
        if sender.transport is not None:
            sent += _stat_sum(await sender.getStats(), "outbound-rtp", "packetsSent")
    return got, sent


async def _read_sessions(stats: RelayStats, sessions: list[_Session]) -> RelayStats:
    for session in sessions:
        stats.peers[(session.role, str(session.pc.connectionState))] += 1
        stats.viewers += session.role == "viewer"
        got, sent = await _packet_counts(session.pc)
        stats.packets_in += got
        stats.packets_out += sent
    return stats


def _stat_sum(report: Any, kind: str, name: str) -> int:
    return sum(int(getattr(stat, name, 0) or 0) for stat in report.values() if getattr(stat, "type", "") == kind)


#: a session of role "edge" is a viewer (another process's subscription), for DELETE
_ROLES = {"viewer": {"viewer", "edge"}}

IS_KEYFRAME: dict[str, Callable[[bytes], bool]] = {"vp8": is_vp8_keyframe, "h264": is_h264_keyframe}


def _codec_preferences(kind: str) -> list[Any]:
    """What the relay negotiates, in its order of preference: VP8, then H.264 in packetization-mode 1
    (both of aiortc's profiles: baseline and constrained baseline), with RTX; Opus for audio."""
    wanted = {"video": ("video/vp8", "video/h264", "video/rtx"), "audio": ("audio/opus",)}[kind]
    codecs = [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType.lower() in wanted]
    return [c for c in codecs if c.mimeType.lower() != "video/h264" or c.parameters.get("packetization-mode") == "1"]


def _ice_server(spec: IceServerSpec) -> RTCIceServer:
    if isinstance(spec, RTCIceServer):
        return spec
    if isinstance(spec, str):
        return RTCIceServer(urls=spec)
    return RTCIceServer(urls=spec["urls"], username=spec.get("username"), credential=spec.get("credential"))


class _Timeline:
    """Output pts for one seat and kind: continuous across publisher changes, shared by all viewers."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.source: str | None = None  # id of the publisher session the last frame came from
        self.offset = 0
        self.last_out: int | None = None
        self.last_wall = 0.0

    def map(self, source: str, timestamp: int) -> int:
        now = time.monotonic()
        if source != self.source:
            self.source = source
            if self.last_out is None:
                self.offset = -timestamp
            else:
                gap = max(MIN_STEP[self.kind], int((now - self.last_wall) * CLOCK_RATE[self.kind]))
                self.offset = self.last_out + gap - timestamp
        out = timestamp + self.offset
        if self.last_out is not None and out <= self.last_out:
            # never step backwards (the receiver already unwraps 32-bit RTP timestamps)
            out = self.last_out + 1
            self.offset = out - timestamp
        self.last_out = out
        self.last_wall = now
        return out


def session_label(session_id: str) -> str:
    """What logs call a session: a hash prefix. The id itself is the capability to DELETE the
    session (its URL), so it never goes into a log above DEBUG."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:8]


@dataclass(eq=False)
class _Session:
    id: str  # secret: the WHIP/WHEP resource's URL ends with it
    role: str  # "publisher" | "viewer"
    pc: RTCPeerConnection
    client: str | None = None  # the client's address (peer limits), if known
    seat: int | None = None  # publisher's seat
    credential: str | None = None  # publisher: what it published with (the seat's token), if a token
    receivers: dict[str, Any] = field(default_factory=dict)  # publisher: kind -> RTCRtpReceiver
    sinks: dict[str, FrameSink] = field(default_factory=dict)  # publisher: kind -> sink
    slots: list[SlotTrack] = field(default_factory=list)  # viewer
    connected: bool = False
    publishing: bool = False
    last_heard: float = 0.0  # publisher: monotonic time of the last frame or RTCP packet
    liveness_due: float = 0.0  # when the next liveness check should run
    ended: bool = False
    connect_timeout: float = CONNECT_TIMEOUT
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    answered: float | None = None  # monotonic time the relay answered the offer
    first_frame: bool = False  # viewer: its first video frame was sent (and timed)

    @property
    def label(self) -> str:
        return session_label(self.id)


class _Seat:
    def __init__(self, index: int, *, forward: bool) -> None:
        self.index = index
        self.publisher: _Session | None = None
        self.forward = {"audio": forward, "video": forward}
        self.slots: dict[str, set[SlotTrack]] = {"audio": set(), "video": set()}
        self.timelines = {kind: _Timeline(kind) for kind in KINDS}
        self.last_keyframe_request = -1e9
        self.pending_keyframe: asyncio.TimerHandle | None = None
        self.keyframe_requests = 0  # PLIs actually sent to the publisher
        self.transcoders: dict[str, Transcoder] = {}  # viewer codec -> the one transcoder feeding it
        self.vp8 = Vp8Packetizer()  # the seat's VP8 video is packetized once, for every viewer
        # An edge's seats are fed by its subscription to the room's origin (media.edge), not by a
        # local publisher: the feed's id, and how to ask it for a key frame.
        self.feed: str | None = None
        self.feed_keyframe: Callable[[int], None] | None = None

    def stop_transcoders(self, keep: set[str] | frozenset[str] = frozenset()) -> None:
        for codec in [c for c in self.transcoders if c not in keep]:
            self.transcoders.pop(codec).stop()


def new_speaking_detector(on_change: OnSpeaking) -> SpeakingDetector:
    """A detector with the SPEAKING_* settings, or its defaults when there are no Django settings
    (the bare relays of the media tests and benchmarks)."""
    from django.conf import settings

    if not settings.configured:
        return SpeakingDetector(on_change)
    return SpeakingDetector(
        on_change,
        threshold_dbov=settings.SPEAKING_LEVEL_DBOV,
        start_after=settings.SPEAKING_START_MS / 1000,
        stop_after=settings.SPEAKING_STOP_MS / 1000,
    )


class RoomRelay:
    """The media relay of one room: 4 seats, any number of viewers.

    Every seat's audio and video start NOT forwarded (`forwarding=False`) until `set_forwarding`
    says what the seat's camera and mic are: a muted track is never forwarded, not even the first
    frames of a relay that has not yet read the room's seats. `forwarding=True` is for a relay with
    no room behind it (tests, benchmarks).
    """

    def __init__(
        self,
        room_key: str,
        *,
        on_publishing: OnPublishing | None = None,
        ice_servers: list[IceServerSpec] | None = None,
        forwarding: bool = False,
        census: Census | None = None,
        on_speaking: OnSpeaking | None = None,
        on_first_frame: OnFirstFrame | None = None,
        publisher_grace: float = PUBLISHER_GRACE,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        """`publisher_grace`: seconds a publisher may send nothing (or stay disconnected) before it
        is ended; `connect_timeout`: seconds a peer may take to connect, unless its PeerLimits say."""
        self.room_key = room_key
        self._on_first_frame = on_first_frame
        self.publisher_grace = publisher_grace
        self.connect_timeout = connect_timeout
        # Who speaks, from the audio-level header extension of each packet (media.speaking).
        self.speaking = new_speaking_detector(on_speaking or (lambda seats: None))
        self.census = census if census is not None else Census()
        self._on_publishing = on_publishing
        self._ice_servers = [_ice_server(s) for s in (ice_servers or [])]
        self._seats = [_Seat(i, forward=forwarding) for i in range(SEATS)]
        self._sessions: dict[str, _Session] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._notify_tail: asyncio.Task[None] | None = None
        self._closed = False
        self.tap: Any = None  # the room's recorder (media.recording.recorder.RoomRecorder), if it records

    # ------------------------------------------------------------------ public API
    async def publish(
        self,
        seat: int,
        offer_sdp: str,
        *,
        replace: bool = False,
        client: str | None = None,
        limits: PeerLimits | None = None,
        credential: str | None = None,
    ) -> tuple[str, str]:
        """WHIP: answer a publisher's offer for `seat`. Raises BadOffer, SeatBusy, RelayClosed.
        `client` (its address) is counted in the census; `limits.connect_timeout` applies.
        `credential`: what the publisher showed (the seat's bearer token), kept with the session
        for `publisher(seat)` and `end_publisher(seat, credential=...)`.

        `replace=True` ends the seat's current publisher session first (e.g. the same user
        reconnecting before the old connection has timed out).
        """
        self._check_open()
        seat_state = self._seat(seat)
        try:
            offer = parse_offer(offer_sdp)
        except OfferError as exc:
            raise BadOffer(str(exc)) from exc
        av_media = [m for m in offer.media if m.kind in KINDS and m.usable]
        for kind in KINDS:
            of_kind = [m for m in av_media if m.kind == kind]
            if len(of_kind) > 1:
                raise BadOffer(f"a publish offer may carry one {kind} m-line, got {len(of_kind)}")
            if of_kind and of_kind[0].direction not in ("sendonly", "sendrecv"):
                raise BadOffer(f"the {kind} m-line of a publish offer must be sendonly (is {of_kind[0].direction})")
        if seat_state.publisher is not None:
            if not replace:
                raise SeatBusy(f"seat {seat} already has a publisher")
            await self.end_session(seat_state.publisher.id)
            self._check_open()
            if seat_state.publisher is not None:
                raise SeatBusy(f"seat {seat} already has a publisher")

        session = self._new_session("publisher", client, limits)
        session.seat = seat
        session.credential = credential
        seat_state.publisher = session  # reserve before the first await
        try:
            for media in av_media:
                transceiver = session.pc.addTransceiver(media.kind, direction="recvonly")
                transceiver.setCodecPreferences(_codec_preferences(media.kind))
                session.receivers[media.kind] = transceiver.receiver
                session.sinks[media.kind] = install_sink(
                    transceiver.receiver, self._frame_handler(session, seat_state, media.kind)
                )
                self._hear_rtcp(session, transceiver.receiver)
                if media.kind == "audio":
                    self._hear_levels(seat_state, transceiver.receiver)
        except Exception:
            await self._end(session)
            raise
        if self.tap is not None:
            self.tap.opened(seat, session.id, tuple(session.receivers))
        return session.id, offer.complete_answer(await self._negotiate(session, offer.sdp))

    async def watch(
        self, offer_sdp: str, *, client: str | None = None, limits: PeerLimits | None = None, edge: bool = False
    ) -> tuple[str, str]:
        """WHEP: answer a viewer's offer; n-th audio / n-th video m-line => seat n. Raises BadOffer,
        RelayClosed, and TooManyPeers past one of `limits` (checked and counted before any await).
        `edge`: the viewer is another process's subscription (media.edge), never refused by the
        viewer caps nor counted as a viewer."""
        self._check_open()
        try:
            offer = parse_offer(offer_sdp)
        except OfferError as exc:
            raise BadOffer(str(exc)) from exc
        plan: list[tuple[OfferedMedia, int]] = []
        counts = {"audio": 0, "video": 0}
        for media in offer.media:
            if media.kind not in KINDS:
                continue
            seat = counts[media.kind]  # the n-th m-line of a kind is seat n, rejected ones included
            counts[media.kind] += 1
            if not media.usable:
                continue
            if media.direction not in ("recvonly", "sendrecv"):
                raise BadOffer(f"m-line {media.index} ({media.kind}) of a watch offer must be recvonly")
            if seat >= SEATS:
                raise BadOffer(f"at most {SEATS} {media.kind} m-lines (one per seat)")
            plan.append((media, seat))

        session = self._new_session("edge" if edge else "viewer", client, limits)
        try:
            for media, seat in plan:
                slot = SlotTrack(media.kind, seat, need_keyframe=self.request_keyframe)
                transceiver = session.pc.addTransceiver(slot, direction="sendonly")
                transceiver.setCodecPreferences(_codec_preferences(media.kind))
                sender = transceiver.sender
                sender._stream_id = f"seat-{seat}"  # a=msid:seat-<n> <track id>
                pack_as_negotiated(sender, slot)
                rtpsend.install(sender)  # per-frame work per frame, not per packet
                # PLI/FIR from the viewer: forward to the publisher instead of forcing an encoder key frame
                sender._send_keyframe = self._viewer_keyframe_handler(slot)  # type: ignore[method-assign]
                if media.kind == "video" and not edge:
                    slot.on_first = functools.partial(self._first_frame, session)
                session.slots.append(slot)
                self._seats[seat].slots[media.kind].add(slot)
        except Exception:
            await self._end(session)
            raise
        return session.id, offer.complete_answer(await self._negotiate(session, offer.sdp))

    async def end_session(self, session_id: str, *, role: str | None = None) -> bool:
        """WHIP/WHEP DELETE: close that peer connection. False if unknown (already ended), or not
        of `role` ("publisher" / "viewer") when one is given."""
        session = self._sessions.get(session_id)
        if session is None or (role is not None and session.role not in _ROLES.get(role, {role})):
            return False
        await self._end(session)
        return True

    def set_forwarding(self, seat: int, *, video: bool, audio: bool) -> None:
        """Mute enforcement at the relay: what is off is not forwarded to any viewer at all."""
        state = self._seat(seat)
        for kind, on in (("video", video), ("audio", audio)):
            was = state.forward[kind]
            state.forward[kind] = on
            if was and not on:
                for slot in state.slots[kind]:
                    slot.flush()
                if kind == "audio":
                    self.speaking.muted(seat)
            elif on and not was:
                for slot in state.slots[kind]:
                    slot.gate()
                if kind == "video":
                    self.request_keyframe(seat, force=True)

    def forwarding(self, seat: int) -> dict[str, bool]:
        return dict(self._seat(seat).forward)

    def is_publishing(self, seat: int) -> bool:
        publisher = self._seat(seat).publisher
        return publisher is not None and publisher.publishing

    def publisher_session(self, seat: int) -> str | None:
        """Session id of the seat's current publisher (connected or still negotiating), if any."""
        publisher = self._seat(seat).publisher
        return publisher.id if publisher is not None else None

    def publisher(self, seat: int) -> SeatPublisher | None:
        """The seat's publisher session (connected or still negotiating), if any."""
        publisher = self._seat(seat).publisher
        if publisher is None:
            return None
        return SeatPublisher(session=publisher.id, credential=publisher.credential, publishing=publisher.publishing)

    async def end_publisher(self, seat: int, *, credential: str | None = None) -> bool:
        """End the seat's publisher session (seat vacated / guest removed); with `credential`, only
        if it published with that one (its token was replaced). False if there was none to end."""
        publisher = self._seat(seat).publisher
        if publisher is None or (credential is not None and publisher.credential != credential):
            return False
        return await self.end_session(publisher.id)

    def set_feed(self, feed: str | None, request_keyframe: Callable[[int], None] | None = None) -> None:
        """An edge's relay: every seat is now fed by `feed` (None: by nothing, or local publishers),
        which `request_keyframe(seat)` asks for a key frame. A new feed is a new source: every video
        slot restarts at its key frame."""
        for state in self._seats:
            state.feed = feed
            state.feed_keyframe = request_keyframe if feed is not None else None
            if feed is not None:
                for slot in state.slots["video"]:
                    slot.gate()

    def feed_handler(self, seat: int, kind: str, feed: str) -> Callable[[str, bytes, int], None]:
        """Frames of `seat`'s `kind` from the edge's feed `feed`, forwarded as a local publisher's
        are (muted tracks not at all) while `feed` is the seat's and no local publisher has it."""
        state = self._seat(seat)
        return self._forwarder(state, kind, feed, lambda: state.feed == feed and state.publisher is None)

    def session_count(self) -> int:
        """Live RTCPeerConnections (publishers + viewers)."""
        return len(self._sessions)

    def viewer_count(self) -> int:
        return sum(1 for s in self._sessions.values() if s.role == "viewer")

    async def stats(self) -> RelayStats:
        """This relay's peers by role and connection state, its viewers, and the RTP packets its
        live peers received and sent (peers that ended are in the census: `Relays.stats`)."""
        return await _read_sessions(RelayStats(relays=1), list(self._sessions.values()))

    async def close(self) -> None:
        """Close every peer connection; the relay refuses new sessions afterwards."""
        self._closed = True
        self.speaking.close()
        await asyncio.gather(*(self._end(s) for s in list(self._sessions.values())), return_exceptions=True)
        if self.tap is not None:  # after the sessions' ends: the recorder finishes their files, then stops
            await self.tap.stopped()
        transcoders = [t for seat in self._seats for t in seat.transcoders.values()]
        await asyncio.gather(*(t.stopped() for t in transcoders))
        for seat in self._seats:
            seat.transcoders.clear()
            if seat.pending_keyframe is not None:
                seat.pending_keyframe.cancel()
                seat.pending_keyframe = None
        if self._notify_tail is not None:
            with contextlib.suppress(Exception):
                await self._notify_tail
        tasks = [t for t in self._tasks if not t.done()]
        if tasks:  # session ends / PLIs already under way: let them finish (a pc half-closed would leak)
            from liverooms.aio import cancel_and_wait  # (this module loads without the project package)

            _done, pending = await asyncio.wait(tasks, timeout=5.0)
            await cancel_and_wait(pending)

    @property
    def closed(self) -> bool:
        return self._closed

    def request_keyframe(self, seat: int, *, force: bool = False) -> None:
        """Ask the seat's publisher for a key frame (RTCP PLI), at most once per KEYFRAME_INTERVAL.

        A request inside the interval is not lost: one deferred request fires at the interval's end.
        `force` sends now regardless (unmute). The seat's transcoders (if any) encode their next
        frame as a key frame too: their viewers may be the ones asking.
        """
        state = self._seat(seat)
        has_video = state.publisher is not None and "video" in state.publisher.receivers
        if not has_video and state.feed_keyframe is None:
            return
        for transcoder in state.transcoders.values():
            transcoder.force_keyframe()
        now = time.monotonic()
        wait = state.last_keyframe_request + KEYFRAME_INTERVAL - now
        if force or wait <= 0:
            if state.pending_keyframe is not None:
                state.pending_keyframe.cancel()
                state.pending_keyframe = None
            self._send_pli(state, now)
        elif state.pending_keyframe is None:
            loop = asyncio.get_running_loop()
            state.pending_keyframe = loop.call_later(wait, self._deferred_pli, state)

    # ------------------------------------------------------------------ internals
    def _check_open(self) -> None:
        if self._closed:
            raise RelayClosed(f"relay {self.room_key} is closed")

    def _seat(self, seat: int) -> _Seat:
        if isinstance(seat, bool) or not isinstance(seat, int) or not 0 <= seat < SEATS:
            raise ValueError(f"seat must be 0..{SEATS - 1}, got {seat!r}")
        return self._seats[seat]

    def _new_session(self, role: str, client: str | None = None, limits: PeerLimits | None = None) -> _Session:
        limits = limits if limits is not None else PeerLimits()
        self.census.admit(self, role, client, limits)
        config = RTCConfiguration(iceServers=self._ice_servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        pc = RTCPeerConnection(configuration=config)
        session = _Session(id=secrets.token_urlsafe(16), role=role, pc=pc, client=client)
        session.connect_timeout = limits.reap_after(self.connect_timeout)
        self._sessions[session.id] = session
        self.census.add(session)
        logger.debug("relay %s: %s %s is session %s", self.room_key, role, session.label, session.id)

        @pc.on("connectionstatechange")
        def _on_state() -> None:
            self._on_connection_state(session, str(pc.connectionState))

        return session

    async def _negotiate(self, session: _Session, offer_sdp: str) -> str:
        pc = session.pc
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())  # gathers ICE candidates
        except asyncio.CancelledError:
            # the HTTP request went away mid-negotiation: nobody will ever learn this session's id
            self._spawn(self._end(session))
            raise
        except Exception as exc:
            ended = session.ended
            await self._end(session)
            if ended or self._closed:
                raise RelayClosed(f"session closed during negotiation: {exc}") from exc
            raise BadOffer(f"unusable offer: {exc}") from exc
        if session.ended:
            raise RelayClosed("session closed during negotiation")
        if session.role == "publisher":  # what a publisher sends is every viewer's (media.sockets)
            raise_receive_buffers(pc)
        session.answered = time.monotonic()
        loop = asyncio.get_running_loop()
        session.timers["connect"] = loop.call_later(session.connect_timeout, self._connect_timeout, session)
        answer: str = pc.localDescription.sdp
        return answer

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _connect_timeout(self, session: _Session) -> None:
        if not session.connected and not session.ended:
            logger.info("relay %s: %s %s did not connect in time", self.room_key, session.role, session.label)
            self._spawn(self._end(session))

    def _grace_expired(self, session: _Session) -> None:
        if not session.ended:
            logger.info("relay %s: %s %s lost", self.room_key, session.role, session.label)
            self._spawn(self._end(session))

    def _hear_rtcp(self, session: _Session, receiver: Any) -> None:
        """Note every RTCP packet (sender reports keep coming while a muted publisher sends no media)."""
        handle = receiver._handle_rtcp_packet

        async def heard(packet: Any) -> None:
            session.last_heard = time.monotonic()
            await handle(packet)

        receiver._handle_rtcp_packet = heard

    def _hear_levels(self, seat: _Seat, receiver: Any) -> None:
        """Read each incoming audio packet's RFC 6464 level (aiortc parses the negotiated
        extension) before the receiver handles it: who speaks costs no decoding."""
        handle = receiver._handle_rtp_packet

        async def heard(packet: Any, arrival_time_ms: int) -> None:
            level = packet.extensions.audio_level
            if level is not None and seat.forward["audio"]:
                self.speaking.heard(seat.index, int(level[1]))
            await handle(packet, arrival_time_ms)

        receiver._handle_rtp_packet = heard

    def _schedule_liveness(self, session: _Session) -> None:
        loop = asyncio.get_running_loop()
        period = max(0.05, min(1.0, self.publisher_grace / 4))
        session.liveness_due = time.monotonic() + period
        session.timers["liveness"] = loop.call_later(period, self._check_liveness, session)

    def _check_liveness(self, session: _Session) -> None:
        """aiortc reports no 'disconnected' state and ICE consent takes ~30 s to fail: a publisher
        that sends neither media nor RTCP for PUBLISHER_GRACE seconds is treated as lost."""
        if session.ended:
            return
        now = time.monotonic()
        if now - session.liveness_due > LOOP_LAG_TOLERANCE:
            # The event loop itself is behind (an overloaded process): the publisher's packets may
            # be waiting unread in the socket. Judge silence only once the loop has caught up.
            self._schedule_liveness(session)
            return
        silent = now - session.last_heard
        if silent > self.publisher_grace:
            logger.info("relay %s: publisher %s silent for %.1fs", self.room_key, session.label, silent)
            self._spawn(self._end(session))
        else:
            self._schedule_liveness(session)

    def _on_connection_state(self, session: _Session, state: str) -> None:
        if session.ended:
            return
        if state == "connected":
            if not session.connected:
                self.census.connected(session)
            session.connected = True
            for name in ("connect", "grace"):
                timer = session.timers.pop(name, None)
                if timer is not None:
                    timer.cancel()
            if session.role == "publisher" and not session.publishing and session.seat is not None:
                session.publishing = True
                session.last_heard = time.monotonic()
                self._schedule_liveness(session)
                seat = self._seats[session.seat]
                for slot in seat.slots["video"]:
                    slot.gate()  # a new source: every viewer restarts at its key frame
                self._notify(session.seat, True)
        elif state == "disconnected":
            if "grace" not in session.timers:
                loop = asyncio.get_running_loop()
                session.timers["grace"] = loop.call_later(self.publisher_grace, self._grace_expired, session)
        elif state in ("failed", "closed"):
            if state == "failed" and not session.connected:
                logger.warning(
                    "relay %s: %s %s could not connect: %s",
                    self.room_key,
                    session.role,
                    session.label,
                    explain_failure(session.pc),
                )
            self._spawn(self._end(session))

    async def _end(self, session: _Session) -> None:
        if session.ended:
            return
        session.ended = True
        try:
            got, sent = await _packet_counts(session.pc)
        except Exception:
            logger.exception(
                "relay %s: reading %s %s's packet counts failed", self.room_key, session.role, session.label
            )
            got = sent = 0
        # its packets retired as it leaves the census (nothing awaited between): counted once
        if self._sessions.pop(session.id, None) is not None:
            self.census.remove(session, (got, sent))
        for timer in session.timers.values():
            timer.cancel()
        session.timers.clear()
        if session.role == "publisher" and session.seat is not None:
            seat = self._seats[session.seat]
            if seat.publisher is session:
                seat.publisher = None
                seat.stop_transcoders()
                self.speaking.muted(session.seat)  # gone: not speaking
                if seat.pending_keyframe is not None:
                    seat.pending_keyframe.cancel()
                    seat.pending_keyframe = None
            for sink in session.sinks.values():
                sink.stop()
            if self.tap is not None:
                self.tap.closed(session.seat, session.id)
            if session.publishing:
                session.publishing = False
                self._notify(session.seat, False)
        for slot in session.slots:
            self._seats[slot.seat].slots[slot.kind].discard(slot)
            slot.stop()
        try:
            await session.pc.close()
        except Exception:
            logger.exception("relay %s: closing %s %s failed", self.room_key, session.role, session.label)

    # -- publisher frames -> viewer slots
    def _frame_handler(self, session: _Session, seat: _Seat, kind: str) -> Callable[[str, bytes, int], None]:
        forward = self._forwarder(seat, kind, session.id, lambda: not session.ended and seat.publisher is session)

        def on_frame(codec: str, data: bytes, timestamp: int) -> None:
            session.last_heard = time.monotonic()
            forward(codec, data, timestamp)

        return on_frame

    def _forwarder(
        self, seat: _Seat, kind: str, source: str, current: Callable[[], bool]
    ) -> Callable[[str, bytes, int], None]:
        """Frames of `seat`'s `kind` from `source` (a publisher session, or an edge's feed) to the
        seat's viewer slots, while `current()` says that source is the seat's."""
        timeline = seat.timelines[kind]
        time_base = TIME_BASE[kind]
        parameter_sets = ParameterSets()  # this source's H.264 SPS/PPS

        def on_frame(codec: str, data: bytes, timestamp: int) -> None:
            if codec == "h264":
                data = parameter_sets.complete(data)  # (remembered even while muted)
            if not current() or not seat.forward[kind]:
                return
            if self.tap is not None:  # recorded as viewers see it (media.recording)
                self.tap.frame(seat.index, source, kind, codec, data, timestamp)
            slots = seat.slots[kind]
            pts = timeline.map(source, timestamp)
            if not slots:
                seat.stop_transcoders()
                return
            packet = av.Packet(data)
            packet.pts = pts
            packet.dts = pts
            packet.time_base = time_base
            keyframe = kind == "video" and IS_KEYFRAME[codec](data)
            if kind == "video" and codec == "vp8":
                seat.vp8.share(packet, data)
            others: set[str] = set()
            for slot in slots:
                if slot.codec == codec:
                    slot.push(packet, keyframe)
                elif slot.codec is not None and slot.active:
                    others.add(slot.codec)
            if kind == "video":
                self._transcode(seat, codec, others, data, pts, keyframe)

        return on_frame

    def _transcode(self, seat: _Seat, codec: str, targets: set[str], data: bytes, pts: int, keyframe: bool) -> None:
        """Feed the seat's frame to one transcoder per other codec its viewers negotiated."""
        seat.stop_transcoders(keep=targets)
        for target in targets:
            transcoder = seat.transcoders.get(target)
            if transcoder is not None and transcoder.source != codec:
                seat.stop_transcoders(keep=targets - {target})
                transcoder = None
            if transcoder is None:
                transcoder = seat.transcoders[target] = Transcoder(
                    codec,
                    target,
                    emit=self._transcoded_handler(seat, target),
                    need_keyframe=functools.partial(self.request_keyframe, seat.index),
                )
            transcoder.feed(data, pts, keyframe)

    def _transcoded_handler(self, seat: _Seat, codec: str) -> Callable[[av.Packet[Any], bool], None]:
        def on_packet(packet: av.Packet[Any], keyframe: bool) -> None:
            if not seat.forward["video"]:
                return
            if codec == "vp8":
                seat.vp8.share(packet, bytes(packet))
            for slot in seat.slots["video"]:
                if slot.codec == codec:
                    slot.push(packet, keyframe)

        return on_packet

    def _first_frame(self, session: _Session) -> None:
        """A video slot of `session` (a viewer) gave its sender its first frame."""
        if session.first_frame or session.answered is None:
            return
        session.first_frame = True
        if self._on_first_frame is not None:
            try:
                self._on_first_frame(time.monotonic() - session.answered)
            except Exception:
                logger.exception("relay %s: on_first_frame failed", self.room_key)

    def _viewer_keyframe_handler(self, slot: SlotTrack) -> Callable[[], None]:
        def send_keyframe() -> None:
            if slot.kind != "video":
                return
            slot.gate()
            self.request_keyframe(slot.seat)

        return send_keyframe

    def _deferred_pli(self, state: _Seat) -> None:
        state.pending_keyframe = None
        self._send_pli(state, time.monotonic())

    def _send_pli(self, state: _Seat, now: float) -> None:
        publisher = state.publisher
        receiver = publisher.receivers.get("video") if publisher is not None else None
        if receiver is None:
            if state.feed_keyframe is not None:  # an edge: the origin asks its publisher
                state.last_keyframe_request = now
                state.keyframe_requests += 1
                state.feed_keyframe(state.index)
            return
        sources = receiver.getSynchronizationSources()
        if not sources:
            return  # nothing received yet: the stream's first frame is a key frame anyway
        ssrc = max(sources, key=lambda s: s.timestamp).source
        state.last_keyframe_request = now
        state.keyframe_requests += 1
        self._spawn(receiver._send_rtcp_pli(ssrc))

    # -- on_publishing notifications, delivered in order
    def _notify(self, seat: int, publishing: bool) -> None:
        callback = self._on_publishing
        if callback is None:
            return
        previous = self._notify_tail

        async def deliver() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await previous
            try:
                result = callback(seat, publishing)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("relay %s: on_publishing(%s, %s) failed", self.room_key, seat, publishing)

        self._notify_tail = asyncio.ensure_future(deliver())


class Relays:
    """Per-process registry of room relays. `on_first_frame` goes to every relay it makes."""

    def __init__(self, *, on_first_frame: OnFirstFrame | None = None) -> None:
        self._relays: dict[str, RoomRelay] = {}
        self.census = Census()  # every relay's peers, for the per-process limits
        self._on_first_frame = on_first_frame

    def get(self, room_key: str, **kwargs: Any) -> RoomRelay:
        """The room's relay, created on first use (kwargs go to RoomRelay on creation only)."""
        relay = self._relays.get(room_key)
        if relay is None or relay.closed:
            kwargs.setdefault("on_first_frame", self._on_first_frame)
            relay = RoomRelay(room_key, census=self.census, **kwargs)
            self._relays[room_key] = relay
        return relay

    async def stats(self) -> RelayStats:
        """Every relay's figures (`RoomRelay.stats`), with the packets of peers that have ended
        since the process started: the packet totals only ever grow."""
        # The ended peers' packets and the live peers (a closing relay's too) at one instant,
        # nothing awaited between: a peer ending while they are read is counted once, live.
        census = self.census
        relays = sum(1 for relay in self._relays.values() if not relay.closed)
        stats = RelayStats(relays=relays, packets_in=census.retired_in, packets_out=census.retired_out)
        return await _read_sessions(stats, list(census.live))

    def find(self, room_key: str) -> RoomRelay | None:
        relay = self._relays.get(room_key)
        return relay if relay is not None and not relay.closed else None

    async def close(self, room_key: str) -> None:
        relay = self._relays.pop(room_key, None)
        if relay is not None:
            await relay.close()

    async def close_all(self) -> None:
        relays = list(self._relays.values())
        self._relays.clear()
        await asyncio.gather(*(r.close() for r in relays), return_exceptions=True)

    def __len__(self) -> int:
        return len(self._relays)
