"""Who-is-speaking benchmark (issue #18): relay CPU with speaking detection on vs off, and the time
from a publisher starting to talk to the `speaking` frame at the viewers' sockets.

    .venv/bin/python bench/speaking.py [--rounds 2] [--window 20] [--viewers 10] [--sockets 100]

One live room, 4 seats publishing Opus over WHIP (aiortc publishers: aiortc's sender writes the
RFC 6464 level of each packet it encodes), each seat talking in bursts — a 450 Hz tone for
`--tone` s, then silence, every `--cycle` s, the seats a quarter cycle apart, so the speaking set
changes ~2.7 times a second. `--viewers` WHEP viewers (4 x (audio + video), nothing decoded) and
`--sockets` room websockets (anonymous viewers) watch. Phases alternate on a fresh server each
(a fresh throwaway SQLite database, `rooms.actions.create_room`, guests seated):

- **on**: `daphne liverooms.asgi:application` (SPEAKING_* defaults: -50 dBov, 100 ms, 500 ms);
- **off**: `daphne speaking_off_app:application` (bench/speaking_off_app.py): the same server
  with the relay's level reading removed, as before #18.

Measured per phase over the window: server CPU (utime + stime of the daphne process), and, on,
for every (tone start, socket): from the moment the publisher's track handed the encoder its first
loud frame after silence to the first `speaking` frame at that socket that names the seat
(CLOCK_MONOTONIC, one clock for the processes of one machine). Same-run ratio: on / off cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import shutil
import signal
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from leanws import open_lean  # bench/leanws.py (the scripts run from bench/)
from processes import log_tail, stop_process
from relay import (  # bench/relay.py: the same setup, load helpers and /proc readings
    HOST,
    SEATS,
    TrackCounter,
    ViewerState,
    _rtc_config,
    cpu_seconds,
    free_port,
    http_post,
    machine_busy_seconds,
    percentile,
    prepare_database,
    say,
    server_env,
    start_server,
    wait_connected,
    wait_for_port,
    wait_for_quiet,
)

RATE, SAMPLES = 48_000, 960  # 20 ms frames
TONE_HZ = 450  # 9 whole periods per 20 ms frame
APPS = {"on": "liverooms.asgi:application", "off": "speaking_off_app:application"}


def _pcm(loudness: int) -> bytes:
    return b"".join(
        int(loudness * math.sin(2 * math.pi * TONE_HZ * i / RATE)).to_bytes(2, "little", signed=True)
        for i in range(SAMPLES)
    )


class BurstTrack(MediaStreamTrack):
    """Mono 48 kHz audio, paced in real time: a tone while `on`, silence otherwise. Records when
    each stretch of tone starts (the first loud frame handed to the encoder after silence)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.on = False
        self.started: list[float] = []
        self._loud, self._quiet = _pcm(12_000), bytes(2 * SAMPLES)
        self._was_on = False
        self._sent = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        now = time.monotonic()
        if self._start is None:
            self._start = now
        delay = self._start + self._sent * SAMPLES / RATE - now
        if delay > 0:
            await asyncio.sleep(delay)
        loud = self.on
        if loud and not self._was_on:
            self.started.append(time.monotonic())
        self._was_on = loud
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(self._loud if loud else self._quiet)
        frame.sample_rate, frame.pts, frame.time_base = RATE, self._sent * SAMPLES, Fraction(1, RATE)
        self._sent += 1
        return frame


async def _publish(port: int, path: str, token: str, track: BurstTrack) -> RTCPeerConnection:
    pc = RTCPeerConnection(configuration=_rtc_config())
    transceiver = pc.addTransceiver(track, direction="sendonly")
    opus = [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType.lower() == "audio/opus"]
    transceiver.setCodecPreferences(opus)
    await pc.setLocalDescription(await pc.createOffer())
    status, answer = await http_post(port, path, pc.localDescription.sdp, token)
    if status != 201:
        await pc.close()
        raise RuntimeError(f"WHIP: HTTP {status} {answer.strip()[:200]}")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return pc


async def _watch(port: int, path: str, number: int) -> RTCPeerConnection:
    """A WHEP viewer of every seat whose receivers count frames instead of decoding them."""
    pc = RTCPeerConnection(configuration=_rtc_config())
    state = ViewerState(number, pc=pc)
    for _ in range(SEATS):
        for kind in ("audio", "video"):
            receiver = pc.addTransceiver(kind, direction="recvonly").receiver
            receiver._RTCRtpReceiver__decoder_queue = TrackCounter(kind, state)
    await pc.setLocalDescription(await pc.createOffer())
    status, answer = await http_post(port, path, pc.localDescription.sdp)
    if status != 201:
        await pc.close()
        raise RuntimeError(f"WHEP: HTTP {status} {answer.strip()[:200]}")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return pc


async def _sleep_until(when: float) -> None:
    await asyncio.sleep(max(0.0, when - time.monotonic()))


async def _bursts(track: BurstTrack, first: float, until: float, tone: float, cycle: float) -> None:
    at = first
    while at + tone < until:
        await _sleep_until(at)
        track.on = True
        await _sleep_until(at + tone)
        track.on = False
        at += cycle


async def _phase(job: dict[str, Any]) -> dict[str, Any]:
    """The load of one phase, in its own process: publish, watch, talk, measure."""
    port, slug, server_pid = job["port"], job["slug"], job["server_pid"]
    pcs: list[RTCPeerConnection] = []
    publishers: list[RTCPeerConnection] = []
    sockets: list[Any] = []
    heard: list[list[tuple[float, list[int]]]] = []
    tracks = [BurstTrack() for _ in range(SEATS)]
    try:
        # Sockets and viewers first, publishers last: on a busy machine the slow part (100 socket
        # handshakes) must not leave the publishers' sessions idle for long before the window.
        origin = f"http://{HOST}:{port}"
        for _ in range(job["sockets"]):
            frames: list[tuple[float, list[int]]] = []
            heard.append(frames)

            def on_text(payload: bytes, frames: list[tuple[float, list[int]]] = frames) -> None:
                if payload.startswith(b'{"type":"speaking"'):
                    frames.append((time.monotonic(), json.loads(payload)["seats"]))

            sockets.append(await open_lean(HOST, port, f"/ws/rooms/{slug}/", origin, on_text))
        viewers = await asyncio.gather(*(_watch(port, f"/rooms/{slug}/whep", n) for n in range(job["viewers"])))
        pcs.extend(viewers)
        connected = await asyncio.gather(*(wait_connected(pc) for pc in viewers))
        for seat, token in enumerate(job["tokens"]):
            publishers.append(await _publish(port, f"/rooms/{slug}/whip", token, tracks[seat]))
            pcs.append(publishers[-1])
        if not all(await asyncio.gather(*(wait_connected(pc) for pc in publishers))):
            raise RuntimeError("a publisher did not connect")
        await asyncio.sleep(job["settle"])
        start = time.monotonic() + 0.5
        until = start + job["window"]
        quarter = job["cycle"] / SEATS
        talking = [
            asyncio.ensure_future(_bursts(track, start + seat * quarter, until, job["tone"], job["cycle"]))
            for seat, track in enumerate(tracks)
        ]
        await _sleep_until(start)
        cpu0, busy0, t0 = cpu_seconds(server_pid), machine_busy_seconds(), time.monotonic()
        await _sleep_until(until)
        cpu1, busy1, t1 = cpu_seconds(server_pid), machine_busy_seconds(), time.monotonic()
        await asyncio.gather(*talking)
        await asyncio.sleep(1.0)  # the last burst's frames
        latencies, missed = [], 0
        for seat, track in enumerate(tracks):
            for began in track.started:
                for frames in heard:
                    arrival = next((at for at, seats in frames if at > began and seat in seats), None)
                    if arrival is None or arrival - began > job["cycle"]:
                        missed += 1
                    else:
                        latencies.append(arrival - began)
        return {
            "server_cores": (cpu1 - cpu0) / (t1 - t0),
            "machine_cores": (busy1 - busy0) / (t1 - t0),
            "viewers_connected": sum(connected),
            "sockets": len(sockets),
            "tone_starts": sum(len(t.started) for t in tracks),
            "publishers": [str(pc.connectionState) for pc in publishers],
            "frames_sent": [t._sent for t in tracks],
            "speaking_frames_per_socket": statistics.mean(len(f) for f in heard) if heard else 0,
            "latencies": latencies,
            "missed": missed,
        }
    finally:
        for sock in sockets:
            sock.abort()
        await asyncio.wait_for(asyncio.gather(*(pc.close() for pc in pcs), return_exceptions=True), 20)


def _phase_main(job: dict[str, Any], results: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        results.put(asyncio.run(_phase(job)))
    except Exception as error:
        results.put({"error": f"{type(error).__name__}: {error}"})


def run_phase(mode: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    phase = tmp / f"{mode}-{time.monotonic_ns()}"
    phase.mkdir()
    env = server_env(phase)
    slug, tokens = prepare_database(env)
    port = free_port()
    log = phase / "server.log"
    server = start_server(APPS[mode], port, env, log)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    load = None
    try:
        wait_for_port(port, server, log)
        job = {
            "port": port,
            "slug": slug,
            "tokens": tokens,
            "server_pid": server.pid,
            "viewers": args.viewers,
            "sockets": args.sockets,
            "settle": args.settle,
            "window": args.window,
            "tone": args.tone,
            "cycle": args.cycle,
        }
        load = ctx.Process(target=_phase_main, args=(job, results), name=f"speaking-bench-{mode}", daemon=True)
        load.start()
        result: dict[str, Any] = results.get(timeout=args.window + args.settle + 120)
        if "error" in result:
            raise RuntimeError(f"{mode} phase: {result['error']}\n{log_tail(log)}")
        result["mode"] = mode
        result["load_busy_other"] = result["machine_cores"] - result["server_cores"]
        return result
    finally:
        if load is not None:
            load.join(30)
            if load.is_alive():
                load.kill()
                load.join(5)
        stop_process(server)
        errors = [line for line in log_tail(log, 400).splitlines() if "Traceback" in line or "ERROR" in line]
        if errors:
            say(f"{mode}: server log has {len(errors)} error lines; tail:\n{log_tail(log, 20)}")


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{1000 * value:.0f}"


def report(phases: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        "| phase | server cores | machine cores (all) | viewers / sockets | tone starts | `speaking` frames per "
        "socket | latency p50 / p99 / max ms | missed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, p in enumerate(phases, 1):
        lat = p["latencies"]
        lines.append(
            f"| {n}. {p['mode']} | {p['server_cores']:.3f} | {p['machine_cores']:.2f} | {p['viewers_connected']} / "
            f"{p['sockets']} | {p['tone_starts']} | {p['speaking_frames_per_socket']:.1f} | "
            + (
                f"{fmt_ms(percentile(lat, 0.5))} / {fmt_ms(percentile(lat, 0.99))} / {fmt_ms(max(lat))}"
                if lat
                else "- / - / -"
            )
            + f" | {p['missed'] if p['mode'] == 'on' else '-'} |"
        )
    on = [p["server_cores"] for p in phases if p["mode"] == "on"]
    off = [p["server_cores"] for p in phases if p["mode"] == "off"]
    lines.append("")
    if on and off:
        on_m, off_m = statistics.median(on), statistics.median(off)
        spread = max(max(on) - min(on), max(off) - min(off))
        lines.append(
            f"- relay CPU, detection on / off (medians of {len(on)} / {len(off)} phases): {on_m:.3f} / {off_m:.3f} "
            f"cores = **{on_m / off_m:.3f}x** (on - off {1000 * (on_m - off_m):+.1f} ms/s; the spread between "
            f"phases of the same mode, the noise: {1000 * spread:.1f} ms/s)."
        )
    pooled = [x for p in phases if p["mode"] == "on" for x in p["latencies"]]
    if pooled:
        missed = sum(p["missed"] for p in phases if p["mode"] == "on")
        lines.append(
            f"- publisher starts talking -> `speaking` frame at a viewer's socket, {len(pooled)} samples: "
            f"p50 **{fmt_ms(percentile(pooled, 0.5))} ms**, p99 **{fmt_ms(percentile(pooled, 0.99))} ms** "
            f"(max {fmt_ms(max(pooled))} ms; {missed} missed; SPEAKING_START_MS is 100 of it)."
        )
    busy = [p for p in phases if p["load_busy_other"] > 1.0]
    if busy:
        lines.append(
            "- note: load + other jobs used > 1 core during "
            + ", ".join(f"phase {phases.index(p) + 1} ({p['load_busy_other']:.2f})" for p in busy)
            + " (this box has 2 cores)."
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="on + off phases, alternating, this many times each")
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured per phase")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after everyone connected")
    parser.add_argument("--viewers", type=int, default=10, help="WHEP viewers")
    parser.add_argument("--sockets", type=int, default=100, help="room websockets (anonymous viewers)")
    parser.add_argument("--tone", type=float, default=1.0, help="seconds of tone per burst")
    parser.add_argument("--cycle", type=float, default=3.0, help="seconds from one burst of a seat to its next")
    parser.add_argument("--quiet-wait", type=float, default=20.0, help="max seconds to wait for an idle machine")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.rounds < 1 or args.tone >= args.cycle or args.cycle - args.tone < 0.7:
        parser.error("--rounds >= 1, and the silence between bursts (--cycle - --tone) must be >= 0.7 s")
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="speaking-bench-"))
    phases: list[dict[str, Any]] = []
    try:
        for _ in range(args.rounds):
            for mode in ("on", "off"):
                wait_for_quiet(args.quiet_wait)
                say(f"phase {mode}: a fresh server, 4 talking seats, {args.viewers} viewers, {args.sockets} sockets")
                result = run_phase(mode, args, tmp)
                lat = result["latencies"]
                say(
                    f"phase {mode}: server {result['server_cores']:.3f} cores (machine {result['machine_cores']:.2f}), "
                    f"latency p50 {fmt_ms(percentile(lat, 0.5))} ms p99 {fmt_ms(percentile(lat, 0.99))} ms, "
                    f"missed {result['missed']}"
                )
                phases.append(result)
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        print("\n" + report(phases, args))
        if args.json:
            args.json.write_text(json.dumps({"args": vars(args), "phases": phases}, indent=1, default=str))
        shutil.rmtree(tmp, ignore_errors=True)
        say(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
