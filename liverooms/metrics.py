"""Prometheus metrics of one process (`/metrics`, liverooms/probes.py).

Most figures are read when Prometheus scrapes, from the objects that already hold them (the room
hubs, the media relays through their public `stats()`, the database, the broker): nothing on a hot
path keeps them. Three are counted as they happen, because a scrape cannot see the past:
deliveries (frames written to room sockets) and their latency, which the hub counts once per event
for all its sockets (one counter add and one histogram observation per event and process, not per
socket), and each WHEP viewer's first-frame time (one observation per viewer).

The media app plugs its relays in from its `AppConfig.ready()` (`register_relays`), as apps plug
into the room: this module imports no app's relay.

Each daphne process serves its own figures: sum them across processes (`sum by (room)
(liverooms_room_viewers)`). The global ones (webhook backlog, Celery queues) are the same on
every process: take `max`, not `sum`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client import Counter as CounterMetric
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CELERY_QUEUES = ("celery", "webhooks")  # liverooms/celery.py: CELERY_TASK_ROUTES

# --- counted as it happens (rooms.hub) --------------------------------------------------------

DELIVERIES = CounterMetric(
    "liverooms_deliveries",
    "Stream events written to room sockets (one per socket and event).",
    registry=None,
)
DELIVERY_LATENCY = Histogram(
    "liverooms_delivery_latency_seconds",
    "From an event's send to the channel layer (after its commit) to this process writing it to every local socket.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=None,
)


def delivered(sockets: int) -> None:
    """A hub wrote one event to `sockets` sockets (rooms.hub: once per event)."""
    if sockets:
        DELIVERIES.inc(sockets)


FIRST_FRAME = Histogram(
    "liverooms_first_frame_seconds",
    "From the relay's WHEP answer to a viewer to the first video frame it sent that viewer (once per viewer).",
    buckets=(0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0),
    registry=None,
)


def first_frame(seconds: float) -> None:
    """A viewer got its first video frame `seconds` after its answer (media.relay: once per viewer)."""
    FIRST_FRAME.observe(max(0.0, seconds))


def event_latency(sent_at: object) -> None:
    """A hub finished writing an event the publisher sent at `sent_at` (time.time(); absent on
    events read back from the stored stream)."""
    if isinstance(sent_at, float):
        DELIVERY_LATENCY.observe(max(0.0, time.time() - sent_at))


# --- read at scrape time --------------------------------------------------------------------


class RelayFigures(Protocol):
    """What a process's media relays report (media.relay.RelayStats)."""

    @property
    def relays(self) -> int: ...
    @property
    def peers(self) -> Mapping[tuple[str, str], int]: ...  # (role, connection state) -> peers
    @property
    def viewers(self) -> int: ...
    @property
    def packets_in(self) -> int: ...  # since the process started: they only grow
    @property
    def packets_out(self) -> int: ...


_relay_figures: list[Callable[[], Awaitable[RelayFigures]]] = []


def register_relays(read: Callable[[], Awaitable[RelayFigures]]) -> None:
    """The media app's relays, read at every scrape (media.apps)."""
    if read not in _relay_figures:
        _relay_figures.append(read)


_hub_figures: list[Callable[[Snapshot], None]] = []
_backlogs: list[Callable[[], Awaitable[int | None]]] = []


def register_hubs(read: Callable[[Snapshot], None]) -> None:
    """The rooms app's hubs: `read(snapshot)` adds its rooms, sockets, viewers and backlog, on the
    event loop (rooms.apps; this module imports no app)."""
    if read not in _hub_figures:
        _hub_figures.append(read)


def register_webhook_backlog(read: Callable[[], Awaitable[int | None]]) -> None:
    """The webhooks app's deliveries still to make (None when the database is away)."""
    if read not in _backlogs:
        _backlogs.append(read)


@dataclass
class Snapshot:
    """What a scrape read, on the process's event loop, before the text is written."""

    rooms: int = 0  # rooms with a hub here, not ended
    sockets: int = 0
    viewers: dict[int, int] = field(default_factory=dict)  # room id -> viewers counted here
    backlog: dict[int, int] = field(default_factory=dict)  # room id -> layer messages the hub has not read
    relays: int = 0
    peers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (role, state) -> peers
    relay_viewers: int = 0
    packets_in: int = 0
    packets_out: int = 0
    webhook_backlog: int | None = None
    celery_queues: dict[str, int] = field(default_factory=dict)


class SnapshotCollector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        s = self.snapshot
        info = GaugeMetricFamily(
            "liverooms_process", "This process (1), and the URL other processes reach it at.", labels=["internal_url"]
        )
        info.add_metric([settings.LIVEROOMS_INTERNAL_URL], 1)
        yield info
        yield GaugeMetricFamily("liverooms_rooms", "Live rooms with sockets or media in this process.", value=s.rooms)
        yield GaugeMetricFamily("liverooms_sockets", "Room websockets open in this process.", value=s.sockets)
        viewers = GaugeMetricFamily(
            "liverooms_room_viewers",
            "Viewers of the room counted in this process (sum over processes).",
            labels=["room"],
        )
        backlog = GaugeMetricFamily(
            "liverooms_hub_backlog",
            "Channel-layer messages waiting for the room's hub in this process.",
            labels=["room"],
        )
        for room_id, count in sorted(s.viewers.items()):
            viewers.add_metric([str(room_id)], count)
        for room_id, count in sorted(s.backlog.items()):
            backlog.add_metric([str(room_id)], count)
        yield viewers
        yield GaugeMetricFamily(
            "liverooms_viewers", "Viewers of every room in this process.", value=sum(s.viewers.values())
        )
        yield backlog
        yield GaugeMetricFamily("liverooms_relays", "Room media relays in this process.", value=s.relays)
        peers = GaugeMetricFamily("liverooms_peers", "WebRTC peers in this process.", labels=["role", "state"])
        for (role, state), count in sorted(s.peers.items()):
            peers.add_metric([role, state], count)
        yield peers
        yield GaugeMetricFamily(
            "liverooms_relay_viewers", "WHEP viewers of every relay in this process.", value=s.relay_viewers
        )
        yield CounterMetricFamily(
            "liverooms_relay_packets_in", "RTP packets the relay received from publishers.", value=s.packets_in
        )
        yield CounterMetricFamily(
            "liverooms_relay_packets_out", "RTP packets the relay sent to viewers.", value=s.packets_out
        )
        if s.webhook_backlog is not None:
            yield GaugeMetricFamily(
                "liverooms_webhook_backlog",
                "Webhook deliveries pending (every process: take max).",
                value=s.webhook_backlog,
            )
        if s.celery_queues:
            queues = GaugeMetricFamily(
                "liverooms_celery_queue_length", "Tasks waiting in the broker's queue (Redis).", labels=["queue"]
            )
            for name, length in sorted(s.celery_queues.items()):
                queues.add_metric([name], length)
            yield queues


async def snapshot() -> Snapshot:
    """Read the figures of this process (on its event loop, so hubs and relays hold still)."""
    s = Snapshot()
    for read_hubs in _hub_figures:
        read_hubs(s)
    await _read_relays(s)
    for backlog in _backlogs:
        s.webhook_backlog = await backlog()
    s.celery_queues = await _celery_queues()
    return s


def receive_buffers(layer: Any) -> dict[str, Any]:
    """The layer's per-channel queues of messages received for this process and not yet read:
    channels-redis's `receive_buffer`, the in-memory layer's `channels` (an empty dict if neither)."""
    for name in ("receive_buffer", "channels"):
        buffers = getattr(layer, name, None)
        if isinstance(buffers, dict):
            return buffers
    return {}


async def _read_relays(s: Snapshot) -> None:
    for read in _relay_figures:
        figures = await read()
        s.relays += figures.relays
        s.peers.update(figures.peers)
        s.relay_viewers += figures.viewers
        s.packets_in += figures.packets_in
        s.packets_out += figures.packets_out


async def _celery_queues() -> dict[str, int]:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return {}
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        async with client.pipeline(transaction=False) as pipe:
            for queue in CELERY_QUEUES:
                pipe.llen(queue)
            lengths = await pipe.execute()
        return {queue: int(length) for queue, length in zip(CELERY_QUEUES, lengths, strict=True)}
    except Exception:
        return {}
    finally:
        await client.aclose()


def text(s: Snapshot) -> bytes:
    """The Prometheus text exposition of a snapshot and of what is counted as it happens."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in (
        SnapshotCollector(s),
        DELIVERIES,
        DELIVERY_LATENCY,
        FIRST_FRAME,
        PROCESS_COLLECTOR,
        PLATFORM_COLLECTOR,
        GC_COLLECTOR,
    ):
        registry.register(collector)
    return generate_latest(registry)
