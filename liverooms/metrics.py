"""Prometheus metrics of one process (`/metrics`, liverooms/probes.py).

Most figures are read when Prometheus scrapes, from the objects that already hold them (the room
hubs, the media relays, the database, the broker): nothing on a hot path keeps them. Two are
counted as they happen, because a scrape cannot see the past: deliveries (frames written to room
sockets) and their latency. The hub counts those once per event for all its sockets (one counter
add and one histogram observation per event and process, not per socket).

Each daphne process serves its own figures: sum them across processes (`sum by (room)
(liverooms_room_viewers)`). The global ones (webhook backlog, Celery queues) are the same on
every process: take `max`, not `sum`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

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


def event_latency(sent_at: object) -> None:
    """A hub finished writing an event the publisher sent at `sent_at` (time.time(); absent on
    events read back from the stored stream)."""
    if isinstance(sent_at, float):
        DELIVERY_LATENCY.observe(max(0.0, time.time() - sent_at))


# --- read at scrape time --------------------------------------------------------------------


@dataclass
class Snapshot:
    """What a scrape read, on the process's event loop, before the text is written."""

    rooms: int = 0  # rooms with a hub here, not ended
    sockets: int = 0
    viewers: dict[int, int] = field(default_factory=dict)  # room id -> viewers counted here
    backlog: dict[int, int] = field(default_factory=dict)  # room id -> layer messages the hub has not read
    relays: int = 0
    peers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (role, state) -> peers
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


class _Packets:
    """Monotonic packet totals over peers that come and go: each peer's counters as last seen,
    plus what peers seen before and since closed had reached (a peer's packets between the last
    scrape and its end are not counted)."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[int, int]] = {}
        self.retired = (0, 0)

    def total(self, now: dict[int, tuple[int, int]]) -> tuple[int, int]:
        gone_in = sum(v[0] for k, v in self.seen.items() if k not in now)
        gone_out = sum(v[1] for k, v in self.seen.items() if k not in now)
        self.retired = (self.retired[0] + gone_in, self.retired[1] + gone_out)
        self.seen = now
        return (
            self.retired[0] + sum(v[0] for v in now.values()),
            self.retired[1] + sum(v[1] for v in now.values()),
        )


_packets = _Packets()


async def snapshot() -> Snapshot:
    """Read the figures of this process (on its event loop, so hubs and relays hold still)."""
    s = Snapshot()
    _read_hubs(s)
    await _read_relays(s)
    s.webhook_backlog = await _webhook_backlog()
    s.celery_queues = await _celery_queues()
    return s


def _read_hubs(s: Snapshot) -> None:
    from channels.layers import get_channel_layer

    from rooms.hub import hubs

    buffers = _receive_buffers(get_channel_layer())
    for hub in hubs().all():
        if not hub.ended:
            s.rooms += 1
        s.sockets += len(hub.sockets)
        s.viewers[hub.room_id] = hub.count_viewers()
        queue = buffers.get(getattr(hub, "_channel", ""))
        s.backlog[hub.room_id] = queue.qsize() if queue is not None else 0


def _receive_buffers(layer: Any) -> dict[str, Any]:
    """The layer's per-channel queues of messages received for this process and not yet read:
    channels-redis's `receive_buffer`, the in-memory layer's `channels` (an empty dict if neither)."""
    for name in ("receive_buffer", "channels"):
        buffers = getattr(layer, name, None)
        if isinstance(buffers, dict):
            return buffers
    return {}


def _sessions() -> Iterator[Any]:
    """Every WebRTC session of this process's relays (media.services.relays; the relay exposes no
    public list of its sessions, so this reads `Relays._relays` and `RoomRelay._sessions`)."""
    try:
        from media.services import relays
    except ImportError:
        return
    for relay in list(getattr(relays, "_relays", {}).values()):
        yield from list(getattr(relay, "_sessions", {}).values())


async def _read_relays(s: Snapshot) -> None:
    try:
        from media.services import relays
    except ImportError:
        return
    s.relays = len(relays)
    counts: dict[int, tuple[int, int]] = {}
    for session in _sessions():
        pc = session.pc
        s.peers[(session.role, pc.connectionState)] += 1
        got = sent = 0
        for receiver in pc.getReceivers():
            got += _stat_sum(await receiver.getStats(), "inbound-rtp", "packetsReceived")
        for sender in pc.getSenders():
            if sender.track is not None:
                sent += _stat_sum(await sender.getStats(), "outbound-rtp", "packetsSent")
        counts[id(session)] = (got, sent)
    s.packets_in, s.packets_out = _packets.total(counts)


def _stat_sum(report: Any, kind: str, name: str) -> int:
    return sum(int(getattr(stat, name, 0) or 0) for stat in report.values() if getattr(stat, "type", "") == kind)


async def _webhook_backlog() -> int | None:
    from liverooms.db import db_async
    from liverooms.webhooks.models import Delivery

    def count() -> int:
        return Delivery.objects.filter(status=Delivery.Status.PENDING).count()

    try:
        return await asyncio.wait_for(db_async(count)(), timeout=2)
    except Exception:
        return None  # the database is away: /healthz says so; the scrape still answers


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
        PROCESS_COLLECTOR,
        PLATFORM_COLLECTOR,
        GC_COLLECTOR,
    ):
        registry.register(collector)
    return generate_latest(registry)
