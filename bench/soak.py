"""Soak: does the server's memory stay flat while a live room streams comments?

    .venv/bin/python bench/soak.py [--viewers 500] [--rate 10] [--warmup 60] [--seconds 240] [--tracemalloc]

One daphne process (liverooms, SQLite in a temporary directory, in-memory channel layer), N viewer
sockets (bench/leanws.py, each reads every frame) and a host posting `comment.post` at `--rate`
per second. The server's RSS is read from /proc every 10 s. Reported: RSS at the end of the
warm-up and at the end, and the growth per 1,000 comments over the measured window (after the
warm-up, so start-up allocations and caches filling do not count). With `--tracemalloc` the
server runs under tracemalloc and the script prints the allocation sites that grew the most
between the two points (the server dumps a snapshot on SIGUSR1). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from fanout import HOST, PYTHON, ROOT, free_port, prepare_database, rss_bytes, server_env, wait_for_port
from leanws import open_lean
from processes import stop_process
from websockets.asyncio.client import connect

REACTION = json.dumps({"type": "reaction.send", "kind": "heart"}, separators=(",", ":")).encode()
SERVER = """
import os, signal, sys, tracemalloc
if os.environ.get("SOAK_TRACEMALLOC"):
    tracemalloc.start(12)
    def dump(signum, frame):
        path = os.environ["SOAK_TRACEMALLOC"] + "." + str(int(os.environ.get("SOAK_N", "0")))
        tracemalloc.take_snapshot().dump(path + ".tmp")
        os.replace(path + ".tmp", path)
        os.environ["SOAK_N"] = str(int(os.environ.get("SOAK_N", "0")) + 1)
    signal.signal(signal.SIGUSR1, dump)
from daphne.cli import CommandLineInterface
sys.argv = ["daphne", "-b", "127.0.0.1", "-p", sys.argv[1], "liverooms.asgi:application"]
CommandLineInterface.entrypoint()
"""


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


async def snapshot(proc: subprocess.Popen[bytes], base: str, n: int) -> tracemalloc.Snapshot:
    proc.send_signal(signal.SIGUSR1)
    path = Path(f"{base}.{n}")
    for _ in range(1200):
        if await asyncio.to_thread(path.exists):
            return tracemalloc.Snapshot.load(str(path))
        await asyncio.sleep(0.1)
    raise RuntimeError("the server wrote no tracemalloc snapshot")


def start(args: argparse.Namespace, tmp: Path) -> tuple[subprocess.Popen[bytes], int, str, str, Path]:
    """Migrate a fresh database, make the host and the room, start the server: (process, port,
    room slug, host session, log)."""
    app = Path(args.app).resolve()
    env = server_env(tmp, app)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    slug, session = prepare_database(env)
    port = free_port()
    if args.tracemalloc:
        env["SOAK_TRACEMALLOC"] = str(tmp / "trace")
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [PYTHON, "-c", SERVER, str(port)],
            cwd=app,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc, port, slug, session, log


async def run(
    args: argparse.Namespace, tmp: Path, proc: subprocess.Popen[bytes], port: int, slug: str, session: str, log: Path
) -> dict[str, object]:
    trace = str(tmp / "trace") if args.tracemalloc else ""
    try:
        await wait_for_port(port, proc, log)
        path, origin = f"/ws/rooms/{slug}/", f"http://{HOST}:{port}"
        received = [0]

        def on_text(data: bytes) -> None:
            received[0] += 1

        idle = rss_bytes(proc.pid)
        viewers = []
        for start in range(0, args.viewers, 50):
            batch = [open_lean(HOST, port, path, origin, on_text) for _ in range(min(50, args.viewers - start))]
            viewers += await asyncio.gather(*batch)
        connected = rss_bytes(proc.pid)
        print(
            f"RSS idle {mib(idle)}, with {len(viewers)} viewers {mib(connected)} "
            f"({(connected - idle) / max(1, len(viewers)) / 1024:.1f} KiB per viewer)",
            flush=True,
        )
        host = await connect(
            f"ws://{HOST}:{port}{path}", origin=origin, additional_headers={"Cookie": f"sessionid={session}"}
        )
        acked = [0]

        async def read_host() -> None:
            with contextlib.suppress(Exception):
                async for raw in host:
                    if '"ack"' in str(raw[:24]):
                        acked[0] += 1

        reader = asyncio.create_task(read_host())
        heart = REACTION

        async def send_hearts() -> None:
            """Each viewer sends a heart about every `--hearts-every` s (spread over the viewers)."""
            step, i = 0.1, 0
            per_step = max(1, round(len(viewers) * step / args.hearts_every)) if args.hearts_every else 0
            while per_step:
                for _ in range(per_step):
                    viewers[i % len(viewers)].send_text(heart)
                    i += 1
                await asyncio.sleep(step)

        hearts = asyncio.create_task(send_hearts())
        samples: list[tuple[float, int, int]] = []  # (seconds, comments acknowledged, rss)
        t0 = time.monotonic()
        end = t0 + args.warmup + args.seconds
        marks: dict[str, tuple[int, int]] = {}
        snaps: list[tracemalloc.Snapshot] = []
        n = 0
        next_sample = t0
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_sample:
                samples.append((now - t0, acked[0], rss_bytes(proc.pid)))
                print(f"{now - t0:6.0f} s  {acked[0]:6d} comments  RSS {mib(samples[-1][2])}", flush=True)
                next_sample += 10
            if "warm" not in marks and now - t0 >= args.warmup:
                if trace:
                    snaps.append(await snapshot(proc, trace, 0))
                marks["warm"] = (acked[0], rss_bytes(proc.pid))
            await host.send(json.dumps({"type": "comment.post", "text": f"soak {n}", "ref": f"c{n % 1000}"}))
            n += 1
            await asyncio.sleep(max(0.0, t0 + n / args.rate - time.monotonic()))
        await asyncio.sleep(2)
        marks["end"] = (acked[0], rss_bytes(proc.pid))
        if trace:
            snaps.append(await snapshot(proc, trace, 1))
        reader.cancel()
        hearts.cancel()
        await host.close()
        for viewer in viewers:
            viewer.abort()

        (c0, r0), (c1, r1) = marks["warm"], marks["end"]
        per_1000 = (r1 - r0) / max(1, c1 - c0) * 1000
        print(
            f"\n{args.viewers} viewers, {args.rate} comments/s: after warm-up RSS {mib(r0)} at {c0} comments, "
            f"at the end {mib(r1)} at {c1} comments: {per_1000 / 1024:+.1f} KiB per 1,000 comments "
            f"({(r1 - r0) / max(1, c1 - c0):+.0f} B per comment); frames read by viewers: {received[0]}"
        )
        if trace and len(snaps) == 2:
            print("\nallocation sites that grew the most over the measured window (tracemalloc):")
            for stat in snaps[1].compare_to(snaps[0], "traceback")[: args.top]:
                print(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
                for line in stat.traceback.format()[-8:]:
                    print("    " + line)
        return {
            "viewers": args.viewers,
            "rate": args.rate,
            "rss_idle": idle,
            "rss_connected": connected,
            "samples": samples,
            "marks": marks,
        }
    finally:
        stop_process(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--rate", type=float, default=10.0, help="comments per second")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the first measure")
    parser.add_argument("--seconds", type=float, default=240.0, help="seconds measured after the warm-up")
    parser.add_argument("--hearts-every", type=float, default=2.0, help="seconds between a viewer's hearts (0: none)")
    parser.add_argument("--tracemalloc", action="store_true", help="trace the server's allocations (slower)")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--app", default=str(ROOT), help="the liverooms checkout to serve (default: this one)")
    parser.add_argument(
        "--database-url", default="", help="an empty PostgreSQL database (default: SQLite in a temp dir)"
    )
    parser.add_argument("--redis-url", default="", help="Redis for the channel layer and cache (default: none)")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="liverooms-soak-") as folder:
        tmp = Path(folder)
        proc, port, slug, session, log = start(args, tmp)
        try:
            figures = asyncio.run(run(args, tmp, proc, port, slug, session, log))
        finally:
            stop_process(proc)
    if args.json:
        Path(args.json).write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
