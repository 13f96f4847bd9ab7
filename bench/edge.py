"""What an edge adds: first-frame time and per-frame latency of a viewer on an edge vs on the origin.

    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/edge.py [--window 15] [--probes 5]

One run, two daphne processes on one throwaway SQLite database and the given Redis, each with its
own LIVEROOMS_INTERNAL_URL: the origin (a publisher on seat 0 sends WHIP to it) and an edge
(WHEP there is served from one subscription to the origin). The publisher sends 320x240 VP8 at
30 fps whose every frame carries its number in 8 black/white stripes (and Opus); the viewers,
in this process (one clock for all), decode each frame and read the number back, so the same frame
is matched on every path, and the publisher notes when it handed each frame to its encoder.

Measured, same run:
- per frame: publisher -> viewer latency (frame handed to the encoder -> decoded at the viewer)
  through the origin and through the edge, p50 / p99, and their difference per frame (what the
  edge hop adds: an extra RTP receive, reassembly and send, and an extra jitter buffer), over
  `--window` s with one viewer on each process;
- first frame: WHEP POST -> first decoded frame, `--probes` viewers one by one on the origin, on a
  warm edge (already subscribed) and on a cold edge (its first viewer opens the subscription).

The capacity figure (full-room viewers at >= 29 fps, 2 processes vs 1) is `bench/relay.py --edge`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
from aiortc import (
    AudioStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from processes import log_tail, stop_process  # bench/processes.py (the scripts run from bench/)
from processes import server_env as processes_server_env
from relay import free_port, http_post, prepare_database, start_server, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT, STRIPES = 320, 240, 8
CYCLE = 1 << STRIPES  # frame numbers repeat every 256 frames (8.5 s): matched by nearest time


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}"


class StripeTrack(VideoStreamTrack):
    """Frames whose number (mod 256) is written in 8 vertical stripes; `sent[n]` = when frame n left."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.sent: dict[int, list[float]] = {}

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        number = self.count % CYCLE
        self.count += 1
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        stripe = WIDTH // STRIPES
        row = b"".join(bytes([235 if number >> i & 1 else 16]) * stripe for i in range(STRIPES))
        luma = frame.planes[0]
        luma.update(row.ljust(luma.line_size, b"\x10") * HEIGHT)
        for plane in frame.planes[1:]:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        self.sent.setdefault(number, []).append(time.monotonic())
        return frame


def read_number(frame: av.VideoFrame) -> int:
    plane = frame.planes[0]
    data = bytes(plane)
    row = (frame.height // 2) * plane.line_size
    stripe = frame.width // STRIPES
    return sum(1 << i for i in range(STRIPES) if data[row + i * stripe + stripe // 2] > 128)


def config() -> RTCConfiguration:
    return RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


class Watcher:
    """A WHEP viewer of seat 0 (4 x (audio + video) offered, as the page does) that decodes its video."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(configuration=config())
        for _ in range(4):
            self.pc.addTransceiver("audio", direction="recvonly")
            self.pc.addTransceiver("video", direction="recvonly")
        self.arrivals: list[tuple[int, float]] = []
        self.first: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.task: asyncio.Task[None] | None = None

    async def start(self, port: int, slug: str) -> float:
        """WHEP; returns when the answer is applied (the POST's start time)."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        began = time.monotonic()
        status, body = await http_post(port, f"/rooms/{slug}/whep", self.pc.localDescription.sdp)
        if status != 201:
            raise RuntimeError(f"WHEP answered {status}: {body}")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        video = next(t for t in self.pc.getTransceivers() if t.kind == "video")
        self.task = asyncio.ensure_future(self._read(video.receiver.track))
        return began

    async def _read(self, track: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                now = time.monotonic()
                if not self.first.done():
                    self.first.set_result(now)
                self.arrivals.append((read_number(frame), now))

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        await self.pc.close()


def latencies(watcher: Watcher, sent: dict[int, list[float]], since: float) -> dict[float, float]:
    """send time -> latency of each frame the watcher decoded after `since` (matched to the
    latest send of its number before it arrived)."""
    out: dict[float, float] = {}
    for number, arrived in watcher.arrivals:
        if arrived < since:
            continue
        sends = [t for t in sent.get(number, []) if t <= arrived]
        if sends and arrived - sends[-1] < CYCLE / 60:  # within half a cycle: the same frame
            out[sends[-1]] = arrived - sends[-1]
    return out


async def first_frame(port: int, slug: str) -> float:
    watcher = Watcher()
    try:
        began = await watcher.start(port, slug)
        return await asyncio.wait_for(watcher.first, 20) - began
    finally:
        await watcher.close()


async def run(args: argparse.Namespace, origin_port: int, edge_port: int, slug: str, token: str) -> dict[str, Any]:
    results: dict[str, Any] = {}
    video = StripeTrack()
    publisher = RTCPeerConnection(configuration=config())
    publisher.addTransceiver(AudioStreamTrack(), direction="sendonly")
    publisher.addTransceiver(video, direction="sendonly")
    await publisher.setLocalDescription(await publisher.createOffer())
    status, body = await http_post(origin_port, f"/rooms/{slug}/whip", publisher.localDescription.sdp, token)
    if status != 201:
        raise RuntimeError(f"WHIP answered {status}: {body}")
    await publisher.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    watchers: list[Watcher] = []
    try:
        await asyncio.sleep(2)
        cold = []
        for _ in range(args.probes):
            await asyncio.sleep(args.edge_idle + 1.5)  # the edge has dropped its subscription
            cold.append(await first_frame(edge_port, slug))
        say(f"cold edge first frame: {[round(v * 1000) for v in cold]} ms")

        on_origin, on_edge = Watcher(), Watcher()
        watchers += [on_origin, on_edge]
        await on_origin.start(origin_port, slug)
        await on_edge.start(edge_port, slug)
        await asyncio.wait_for(asyncio.gather(on_origin.first, on_edge.first), 20)
        await asyncio.sleep(2)
        since = time.monotonic()
        say(f"measuring per-frame latency for {args.window:.0f} s")
        await asyncio.sleep(args.window)
        direct = latencies(on_origin, video.sent, since)
        through = latencies(on_edge, video.sent, since)
        added = [through[t] - direct[t] for t in direct.keys() & through.keys()]

        warm_origin, warm_edge = [], []
        for _ in range(args.probes):
            warm_origin.append(await first_frame(origin_port, slug))
            warm_edge.append(await first_frame(edge_port, slug))
        results.update(
            window=args.window,
            origin_frames=len(direct),
            edge_frames=len(through),
            latency_origin=(percentile(list(direct.values()), 0.5), percentile(list(direct.values()), 0.99)),
            latency_edge=(percentile(list(through.values()), 0.5), percentile(list(through.values()), 0.99)),
            latency_added=(percentile(added, 0.5), percentile(added, 0.99)),
            added_mean=statistics.fmean(added) if added else None,
            first_origin=(percentile(warm_origin, 0.5), percentile(warm_origin, 0.99)),
            first_warm_edge=(percentile(warm_edge, 0.5), percentile(warm_edge, 0.99)),
            first_cold_edge=(percentile(cold, 0.5), percentile(cold, 0.99)),
        )
    finally:
        for watcher in watchers:
            await watcher.close()
        await publisher.close()
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> str:
    r = results

    def pair(key: str) -> str:
        p50, p99 = r[key]
        return f"{ms(p50)} / {ms(p99)}"

    lines = [
        f"### Origin and edge (bench/edge.py, {time.strftime('%Y-%m-%d')}, window {args.window:.0f} s, "
        f"{args.probes} probes)",
        "",
        "| path | publisher → viewer per frame p50 / p99 ms | WHEP POST → first frame p50 / p99 ms |",
        "|---|---:|---:|",
        f"| origin (1 process) | {pair('latency_origin')} | {pair('first_origin')} |",
        f"| edge, subscribed | {pair('latency_edge')} | {pair('first_warm_edge')} |",
        f"| edge, first viewer (opens the subscription) | - | {pair('first_cold_edge')} |",
        f"| **added by the edge** (same frame, per frame) | **{pair('latency_added')}** | "
        f"warm {ms(r['first_warm_edge'][0] - r['first_origin'][0])}, cold "
        f"{ms(r['first_cold_edge'][0] - r['first_origin'][0])} (p50) |",
        "",
        f"Frames matched: {r['origin_frames']} on the origin, {r['edge_frames']} through the edge.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=float, default=15.0, help="seconds of per-frame latency measured")
    parser.add_argument("--probes", type=int, default=5, help="first-frame probes per path")
    parser.add_argument("--edge-idle", type=float, default=1.0, help="EDGE_IDLE_SECONDS of the edge")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""), help="Redis (default: REDIS_URL)")
    parser.add_argument("--readme", type=Path, help="append the results to this file (bench/README.md)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if not args.redis_url:
        parser.error("an edge needs Redis: set REDIS_URL or pass --redis-url")
    with tempfile.TemporaryDirectory(prefix="bench-edge-") as name:
        tmp = Path(name)
        env = processes_server_env(tmp, debug=True, REDIS_URL=args.redis_url, EDGE_IDLE_SECONDS=str(args.edge_idle))
        say("migrating a throwaway database, opening a room")
        slug, tokens = prepare_database(env)
        servers: list[subprocess.Popen[bytes]] = []
        try:
            ports = [free_port(), free_port()]
            for port, role in zip(ports, ("origin", "edge"), strict=True):
                own = {**env, "LIVEROOMS_INTERNAL_URL": f"http://127.0.0.1:{port}"}
                log = tmp / f"{role}.log"
                servers.append(start_server("liverooms.asgi:application", port, own, log))
                wait_for_port(port, servers[-1], log)
            results = asyncio.run(run(args, ports[0], ports[1], slug, tokens[0]))
        finally:
            for server in servers:
                stop_process(server)
            for role in ("origin", "edge"):
                errors = [line for line in log_tail(tmp / f"{role}.log", 400).splitlines() if "Traceback" in line]
                if errors:
                    say(f"{role} log has tracebacks; tail:\n{log_tail(tmp / f'{role}.log', 20)}")
    text = report(results, args)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.readme:
        with args.readme.open("a") as out:
            out.write("\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
