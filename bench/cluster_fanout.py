"""Websocket fan-out of one room through nginx: 1 daphne process vs 2, same viewers, same run.

    .venv/bin/python bench/cluster_fanout.py [--viewers 2000] [--rate 5] [--seconds 20]

Each layout is a cluster started by deploy/cluster.py (nginx + N daphne, no Celery) on PostgreSQL
and Redis (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/liverooms_bench_cluster;
BENCH_REDIS_URL, default redis://127.0.0.1:6379/15), with the per-client limits raised
(bench/processes.py UNLIMITED). The load is bench/fanout.py's: viewer sockets opened through
nginx by separate processes, each reading every frame and sending a heart about every 2 s; a host
socket posting `comment.post` at `--rate`. Reported per layout: CPU seconds of the daphne
processes and of nginx over the steady window and drain, per comment delivery; delivery latency
(post -> each viewer, p50/p99/max); comments lost (acknowledged, not received); and how the
viewers split over the processes. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from fanout import (  # noqa: E402
    DRAIN_TIMEOUT,
    PYTHON,
    SETTLE,
    SETUP_SNIPPET,
    HostSocket,
    cpu_seconds,
    expect,
    load_worker,
    open_socket,
    percentile,
    raise_fd_limit,
    say,
    sleep_until,
)
from processes import UNLIMITED  # noqa: E402

from deploy.cluster import Cluster, running  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/liverooms_bench_cluster")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def cluster_cpu(cluster: Cluster) -> tuple[float, float]:
    """CPU seconds so far of the daphne processes, and of nginx (master and workers)."""
    daphne = sum(cpu_seconds(p.popen.pid) for p in cluster.daphnes if p.popen)
    nginx = 0.0
    master = next(p for p in cluster.others if p.name == "nginx").popen
    if master is not None:
        pids = [master.pid]
        children = Path(f"/proc/{master.pid}/task/{master.pid}/children")
        if children.exists():
            pids += [int(x) for x in children.read_text().split()]
        nginx = sum(cpu_seconds(pid) for pid in pids if Path(f"/proc/{pid}").exists())
    return daphne, nginx


def setup_room(env: dict[str, str]) -> tuple[str, str]:
    snippet = SETUP_SNIPPET.replace('"benchhost"', f'"benchhost-{secrets.token_hex(4)}"')  # a fresh host per run
    done = subprocess.run(
        [PYTHON, "-c", snippet], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True, text=True
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return data["slug"], data["session"]


async def measure(cluster: Cluster, args: argparse.Namespace, slug: str, session: str) -> dict[str, Any]:
    url, origin = f"ws://127.0.0.1:{cluster.port}/ws/rooms/{slug}/", cluster.url
    max_comments = math.ceil(args.rate * args.seconds) + 2
    connect_timeout = 60 + args.viewers / 5  # generous: joins are slow on a loaded machine
    phase_timeout = connect_timeout + args.seconds + DRAIN_TIMEOUT + 60
    context = multiprocessing.get_context("spawn")
    pipes, workers = [], []
    ws, _ = await open_socket(url, origin, {"Cookie": f"sessionid={session}"})
    host = HostSocket(ws)
    try:
        shares = [
            args.viewers // args.load_procs + (n < args.viewers % args.load_procs) for n in range(args.load_procs)
        ]
        for n, share in enumerate(shares):
            mine, theirs = context.Pipe()
            cfg = {
                "url": url,
                "origin": origin,
                "viewers": share,
                "batch": max(1, math.ceil(50 / args.load_procs)),
                "max_comments": max_comments,
                "seed": 100 + n,
                "hearts_every": args.hearts_every,
                "phase_timeout": phase_timeout,
                "hard_timeout": phase_timeout * 3,
            }
            worker = context.Process(target=load_worker, args=(theirs, cfg), daemon=True)
            worker.start()
            theirs.close()
            workers.append(worker)
            pipes.append(mine)
        connected = await expect(pipes, "connected", connect_timeout)
        viewers = sum(c[1] for c in connected)
        await asyncio.sleep(SETTLE)
        split = await asyncio.to_thread(sockets_per_process, cluster)
        say(f"[{len(cluster.daphnes)} daphne] {viewers} viewers connected, sockets per process {split}")
        t0 = time.monotonic() + 0.5
        t1 = t0 + args.seconds
        for pipe in pipes:
            pipe.send(("start", t0, t1))
        await sleep_until(t0)
        cpu0 = cluster_cpu(cluster)
        posted = await host.post(t0, t1, args.rate)
        await host.answered(posted, DRAIN_TIMEOUT)
        acked = sorted(host.acked)
        for pipe in pipes:
            pipe.send(("posted", acked, time.monotonic() + DRAIN_TIMEOUT))
        drained = await expect(pipes, "drained", DRAIN_TIMEOUT + 30)
        cpu1 = cluster_cpu(cluster)
        window = max(d[1] for d in drained) - t0
        results = [r[1] for r in await expect(pipes, "result", 60)]
        for pipe in pipes:
            pipe.send(("close",))
    finally:
        await host.close()
        for worker in workers:
            worker.join(timeout=30)
    latencies = sorted(x for r in results for x in array("d", r["latencies"]))
    deliveries = len(latencies)
    daphne_cpu, nginx_cpu = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    return {
        "processes": len(cluster.daphnes),
        "viewers": viewers,
        "split": split,
        "posted": posted,
        "acked": len(acked),
        "deliveries": deliveries,
        "lost": sum(r["missing"] for r in results),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else math.nan) * 1000,
        "daphne_cpu_s": daphne_cpu,
        "nginx_cpu_s": nginx_cpu,
        "window_s": window,
        "daphne_us_per_delivery": daphne_cpu / deliveries * 1e6 if deliveries else math.nan,
        "total_us_per_delivery": (daphne_cpu + nginx_cpu) / deliveries * 1e6 if deliveries else math.nan,
    }


def sockets_per_process(cluster: Cluster) -> list[int]:
    import re
    import urllib.request

    counts = []
    for process in cluster.daphnes:
        with urllib.request.urlopen(f"{process.internal_url}/metrics", timeout=10) as response:  # noqa: S310
            text = response.read().decode()
        found = re.search(r"^liverooms_sockets (\S+)$", text, re.MULTILINE)
        counts.append(int(float(found.group(1))) if found else -1)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--load-procs", type=int, default=2)
    parser.add_argument("--hearts-every", type=float, default=2.0, help="seconds between a viewer's hearts (0: none)")
    parser.add_argument("--layouts", default="1,2", help="daphne processes per run, comma-separated (default 1,2)")
    args = parser.parse_args()
    raise_fd_limit(args.viewers * 3 + 1024)
    env = {
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "liverooms.settings",
        **UNLIMITED,
    }
    outcomes = []
    (ROOT / "var").mkdir(exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="bench-cluster-", dir=ROOT / "var"))
    var.chmod(0o755)
    try:
        for layout in [int(n) for n in args.layouts.split(",")]:
            with running(processes=layout, var=var / f"n{layout}", env=env, celery=False, access_log=False) as cluster:
                full_env = {**dict(cluster.daphnes[0].env), **env}
                full_env.pop("LIVEROOMS_INTERNAL_URL", None)
                slug, session = setup_room(full_env)
                outcomes.append(asyncio.run(measure(cluster, args, slug, session)))
            say(json.dumps(outcomes[-1]))
    finally:
        shutil.rmtree(var, ignore_errors=True)
    hearts = f"a heart every {args.hearts_every:g} s per viewer" if args.hearts_every else "no hearts"
    print(
        f"\ncluster fan-out: {args.viewers} viewers, {args.rate:g} comments/s for {args.seconds:g} s, {hearts}, "
        "through nginx"
    )
    print("| daphne | viewers (each) | deliveries | lost | p50 | p99 | max | daphne µs/deliv. | +nginx µs/deliv. |")
    print("|---|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        print(
            f"| {o['processes']} | {o['viewers']} ({'/'.join(map(str, o['split']))}) | {o['deliveries']} | {o['lost']} "
            f"| {o['p50_ms']:.0f} ms | {o['p99_ms']:.0f} ms | {o['max_ms']:.0f} ms "
            f"| {o['daphne_us_per_delivery']:.1f} | {o['total_us_per_delivery']:.1f} |"
        )
    if len(outcomes) >= 2:
        one, two = outcomes[0], outcomes[-1]
        print(
            f"\nratios ({two['processes']} vs {one['processes']}): p99 {two['p99_ms'] / one['p99_ms']:.2f}x, "
            f"daphne CPU per delivery {two['daphne_us_per_delivery'] / one['daphne_us_per_delivery']:.2f}x"
        )
    return 0 if all(o["lost"] == 0 for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
