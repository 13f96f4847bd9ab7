"""An edge: this process serves a room's viewers from ONE subscription to the room's origin.

`Upstream` is an aiortc WHEP client of the origin's internal URL (`media.origin`): 4 seats x
(audio, video) recvonly, like a full-room viewer. Each of its receivers feeds the local relay's
seat through a `FrameSink` (`RoomRelay.feed_handler`), exactly as a local publisher's frames do:
one shared packet per frame for every local viewer, nothing decoded. A local viewer's PLI/FIR
becomes a PLI on the upstream's receiver for that seat, which the origin passes to the publisher.

The subscription follows the registry: it waits (with back-off) for the room to have an origin,
subscribes, and subscribes again when the connection fails or closes, or when the registry names
another holder (the old one stopped renewing: killed or stalled). With no local viewer for
`EDGE_IDLE_SECONDS` it calls `on_idle` (the room's media in this process then closes).

Also here, the rest of the process-to-process HTTP: a WHIP offer (or DELETE) reaching a process
that is not the room's origin is forwarded to the origin (`forward`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from media.origin import CLIENT_HEADER, EDGE_HEADER, Holder, Registry, edge_credential
from media.passthrough import install_sink
from media.relay import KINDS, SEATS, IceServerSpec, RoomRelay, _codec_preferences, _ice_server
from media.sockets import raise_receive_buffers

logger = logging.getLogger(__name__)

SDP = "application/sdp"
#: seconds between looks at the connection and the registry while subscribed
WATCH_EVERY = 0.5
#: back-off while the room has no reachable origin: from the first to the last, doubling
BACKOFF = (0.25, 4.0)
HTTP_TIMEOUT = 20.0  # an origin's WHEP answer waits for its ICE gathering (seconds)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]


def _request(method: str, url: str, *, body: bytes | None, headers: dict[str, str], timeout: float) -> Reply:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 - an internal URL from our settings
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Reply(response.status, response.read(), dict(response.headers.items()))
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read(), dict(error.headers.items()))


async def http(
    method: str, url: str, *, body: bytes | None = None, headers: dict[str, str], wait: float = HTTP_TIMEOUT
) -> Reply:
    """One HTTP request to another process of the cluster (in a thread; raises OSError if unreachable)."""
    return await asyncio.to_thread(_request, method, url, body=body, headers=headers, timeout=wait)


FORWARDED = ("Authorization", "Content-Type", "Cookie", "X-CSRFToken", "Origin", "Referer", "Host")


async def forward(
    holder: Holder, method: str, path: str, *, slug: str, body: bytes, headers: Mapping[str, str], client: str | None
) -> Reply:
    """The request a client made here, made to the room's origin (with the internal credential
    and the client's address). Raises OSError when the origin cannot be reached."""
    sent = {name: headers[name] for name in FORWARDED if name in headers}
    sent[EDGE_HEADER] = edge_credential(slug)
    if client is not None:
        sent[CLIENT_HEADER] = client
    return await http(method, holder.url + path, body=body or None, headers=sent)


class Upstream:
    """One room's subscription from this process to the room's origin, feeding `relay`."""

    def __init__(
        self,
        *,
        room_id: int,
        slug: str,
        relay: RoomRelay,
        registry: Registry,
        on_idle: Callable[[], None],
        idle_after: float,
        ice_servers: list[IceServerSpec] | None = None,
    ) -> None:
        self.room_id = room_id
        self.slug = slug
        self.relay = relay
        self.registry = registry
        self.on_idle = on_idle
        self.idle_after = idle_after
        self.ice_servers = [_ice_server(s) for s in (ice_servers or [])]
        self.holder: Holder | None = None  # the origin subscribed to, while subscribed
        self.subscriptions = 0  # how many times it subscribed (tests, logs)
        self._task: asyncio.Task[None] | None = None
        self._idle_since: float | None = None
        self._pli_tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            from liverooms.aio import cancel_and_wait  # (this module loads without the project package)

            await cancel_and_wait([task])  # how it ended matters not: the upstream is gone

    @property
    def connected(self) -> bool:
        return self.holder is not None

    # ------------------------------------------------------------------ the loop
    async def _run(self) -> None:
        wait = BACKOFF[0]
        while True:
            if self._idle():
                logger.info("edge room %s: no viewer left; closing the upstream", self.room_id)
                self.on_idle()
                return
            holder = await self._origin()
            if holder is not None and holder != self.registry.me:
                try:
                    await self._subscribed(holder)
                    wait = BACKOFF[0]
                    continue
                except (OSError, ValueError) as error:
                    logger.info("edge room %s: cannot subscribe to %s: %s", self.room_id, holder.url, error)
            await asyncio.sleep(wait)
            wait = min(BACKOFF[1], wait * 2)

    def _idle(self) -> bool:
        if self.relay.viewer_count() > 0:
            self._idle_since = None
            return False
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        return now - self._idle_since >= self.idle_after

    async def _origin(self) -> Holder | None:
        try:
            return await self.registry.origin_of(self.room_id)
        except Exception as error:  # Redis away: try again later
            logger.warning("edge room %s: cannot read the origin registry: %s", self.room_id, error)
            return None

    async def _subscribed(self, holder: Holder) -> None:
        """Subscribe to `holder` and feed the relay until that subscription is over."""
        feed = f"upstream-{secrets.token_hex(4)}"
        config = RTCConfiguration(iceServers=self.ice_servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        pc = RTCPeerConnection(configuration=config)
        location: str | None = None
        try:
            video: dict[int, Any] = {}
            for seat in range(SEATS):
                for kind in KINDS:
                    transceiver = pc.addTransceiver(kind, direction="recvonly")
                    transceiver.setCodecPreferences(_codec_preferences(kind))
                    install_sink(transceiver.receiver, self.relay.feed_handler(seat, kind, feed))
                    if kind == "video":
                        video[seat] = transceiver.receiver
            await pc.setLocalDescription(await pc.createOffer())
            reply = await http(
                "POST",
                f"{holder.url}/rooms/{self.slug}/whep",
                body=pc.localDescription.sdp.encode(),
                headers={"Content-Type": SDP, EDGE_HEADER: edge_credential(self.slug)},
            )
            if reply.status != 201:
                raise ValueError(f"WHEP answered {reply.status}: {reply.body.decode(errors='replace').strip()}")
            location = reply.headers.get("Location")
            await pc.setRemoteDescription(RTCSessionDescription(sdp=reply.body.decode(), type="answer"))
            raise_receive_buffers(pc)  # the whole room comes in here
            self.holder = holder
            self.subscriptions += 1
            self.relay.set_feed(feed, lambda seat: self._ask_keyframe(video.get(seat)))
            logger.info("edge room %s: subscribed to the origin at %s", self.room_id, holder.url)
            await self._follow(pc, holder)
        finally:
            self.holder = None
            self.relay.set_feed(None)
            await pc.close()
            if location is not None:
                self._spawn(self._delete(holder, location))

    async def _follow(self, pc: RTCPeerConnection, holder: Holder) -> None:
        """Return when the subscription is over: failed, or the registry names another origin."""
        looked = 0.0
        while True:
            await asyncio.sleep(WATCH_EVERY)
            if pc.connectionState in ("failed", "closed"):
                logger.info("edge room %s: the upstream %s", self.room_id, pc.connectionState)
                return
            if self._idle():
                return
            now = time.monotonic()
            if now - looked >= 1.0:
                looked = now
                current = await self._origin()
                if current != holder:
                    logger.info("edge room %s: the origin is now %s", self.room_id, current.url if current else None)
                    return

    def _ask_keyframe(self, receiver: Any) -> None:
        if receiver is None:
            return
        sources = receiver.getSynchronizationSources()
        if sources:
            ssrc = max(sources, key=lambda s: s.timestamp).source
            self._spawn(receiver._send_rtcp_pli(ssrc))

    async def _delete(self, holder: Holder, location: str) -> None:
        with contextlib.suppress(OSError):
            await http("DELETE", holder.url + location, headers={EDGE_HEADER: edge_credential(self.slug)}, wait=5)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._pli_tasks.add(task)
        task.add_done_callback(self._pli_tasks.discard)
