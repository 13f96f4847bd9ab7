"""Websocket fan-out benchmark: one live room, N viewers, a host posting comments.

    .venv/bin/python bench/fanout.py [--viewers 2000] [--rate 5] [--seconds 20]

Runs three servers one after the other, each in its own process, under the same load:

- `liverooms`: the project (`daphne liverooms.asgi:application`, in-memory channel layer,
  SQLite in a temporary directory, a room opened with `rooms.actions.create_room`);
- `tutorial`: the Channels tutorial's chat pattern (bench/tutorial_app.py, served by daphne);
- `websockets`: a plain `websockets.broadcast` server (bench/broadcast_app.py), about the
  cheapest fan-out Python does.

The load comes from separate processes (this script and `--load-procs` workers): N viewer sockets,
opened in batches, each reading the first `room.state` and then every frame; each sends a heart
about every 2 s (jittered). A host socket posts `comment.post` with text `<id>:<send time>` at
`--rate` per second for `--seconds`. Each viewer records, per `comment.created`, receive time
minus send time (CLOCK_MONOTONIC, shared by the processes of this machine) and which ids it got.

Reported per server: CPU seconds of the server process (utime+stime from /proc) from the start of
the steady window until every viewer has every comment, divided by the comment deliveries; the
delivery latency (p50/p99/max, post -> each viewer) and the time for a comment to reach every
viewer; comments lost (posted and acknowledged, not received, summed over viewers); server RSS
growth per connection; `reactions` frames per viewer per second; and the CPU used by the load
processes, since on a small machine they share the cores with the server. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import json
import math
import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from leanws import LeanSocket, open_lean  # bench/leanws.py (the scripts run from bench/)
from processes import log_tail, stop_process  # bench/processes.py
from processes import server_env as processes_server_env
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"
REACTION = json.dumps({"type": "reaction.send", "kind": "heart"}, separators=(",", ":"))
REACTION_BYTES = REACTION.encode()
DRAIN_TIMEOUT = 15.0  # seconds after the last post for every viewer to get every comment
SETTLE = 2.0  # seconds between the last viewer connecting and the steady window

SETUP_SNIPPET = """
import json
import django
django.setup()
from django.contrib.auth.models import User
from django.test import Client
from rooms.actions import create_room
host = User.objects.create_user("benchhost")
room = create_room(host=host, title="Fan-out benchmark")
client = Client()
client.force_login(host)
print(json.dumps({"slug": room.slug, "session": client.cookies["sessionid"].value}))
"""


@dataclass(frozen=True)
class Target:
    name: str
    what: str
    command: tuple[str, ...]  # "{port}" is replaced

    def argv(self, port: int) -> list[str]:
        return [part.replace("{port}", str(port)) for part in self.command]


TARGETS = {
    "liverooms": Target(
        "liverooms",
        "liverooms (daphne, room hub)",
        (PYTHON, "-m", "daphne", "-b", HOST, "-p", "{port}", "liverooms.asgi:application"),
    ),
    "tutorial": Target(
        "tutorial",
        "Channels tutorial pattern (daphne)",
        (PYTHON, "-m", "daphne", "-b", HOST, "-p", "{port}", "tutorial_app:application"),
    ),
    "websockets": Target(
        "websockets",
        "plain websockets.broadcast",
        (PYTHON, str(BENCH / "broadcast_app.py"), "--port", "{port}"),
    ),
}


# --- /proc readings --------------------------------------------------------------------------


def cpu_seconds(pid: int, *, main_thread: bool = False) -> float:
    """utime + stime of a process (every thread, or only its main thread), in seconds."""
    stat = Path(f"/proc/{pid}/task/{pid}/stat" if main_thread else f"/proc/{pid}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def all_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds of every process on the machine, by pid, with its name."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            found[int(stat.parent.name)] = (name, (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return found


def busiest_others(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], ours: set[int]) -> str:
    """The other processes that used the most CPU between two `all_cpu()` readings."""
    used = [
        (seconds - before.get(pid, (name, 0.0))[1], name, pid)
        for pid, (name, seconds) in after.items()
        if pid not in ours
    ]
    used.sort(reverse=True)
    return ", ".join(f"{name}[{pid}] {seconds:.1f} s" for seconds, name, pid in used[:3] if seconds >= 0.05)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def machine_jiffies() -> tuple[int, int, int]:
    """(total, idle, irq + softirq) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values[:8]), values[3] + values[4], values[5] + values[6]


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(tmp: Path, app: Path) -> dict[str, str]:
    # FANOUT_APP_DIR: where the servers run (cwd), i.e. the liverooms code under test
    return processes_server_env(tmp, debug=False, FANOUT_APP_DIR=str(app))


def prepare_database(env: dict[str, str]) -> tuple[str, str]:
    """Migrate the throwaway database; create the host and a live room. Returns (slug, sessionid)."""
    app = env["FANOUT_APP_DIR"]
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=app, env=env, check=True, timeout=180)
    done = subprocess.run(
        [PYTHON, "-c", SETUP_SNIPPET], cwd=app, env=env, check=True, timeout=60, capture_output=True, text=True
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return data["slug"], data["session"]


def start_server(target: Target, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            target.argv(port),
            cwd=env["FANOUT_APP_DIR"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log_tail(log)}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 1.0)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"server did not listen on {port} within {within:.0f} s:\n{log_tail(log)}")


async def wait_for_quiet(within: float) -> None:
    """Wait (at most `within` s) until other jobs use under 0.2 core for 2 s: they would skew the figures."""
    deadline = time.monotonic() + within
    busy = 0.0
    for _ in range(math.ceil(within / 2) + 1):
        total0, idle0, _ = machine_jiffies()
        await asyncio.sleep(2.0)
        total1, idle1, _ = machine_jiffies()
        busy = (os.cpu_count() or 1) * (1 - (idle1 - idle0) / max(1, total1 - total0))
        if busy < 0.2 or time.monotonic() >= deadline:
            break
        say(f"other jobs use {busy:.1f} cores; waiting for a quiet machine")
    if busy >= 0.2:
        say(f"warning: other jobs use {busy:.1f} cores; figures will be skewed")


async def sleep_until(when: float) -> None:
    delay = when - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def open_socket(
    url: str, origin: str, headers: dict[str, str] | None = None
) -> tuple[ClientConnection, list[str]]:
    """Connect and read up to the first `room.state`; returns the socket and the frames that came before it."""
    ws = await connect(
        url,
        origin=origin,  # type: ignore[arg-type]
        additional_headers=headers,
        compression=None,
        proxy=None,
        open_timeout=30,
        ping_interval=None,
        close_timeout=1,
        max_queue=256,
    )
    before: list[str] = []
    try:
        while True:
            raw = str(await asyncio.wait_for(ws.recv(), 30))
            if '"room.state"' in raw[:24]:
                return ws, before
            before.append(raw[:120])
    except BaseException:
        ws.transport.abort()
        raise


# --- the load worker (a separate process) ----------------------------------------------------


class Viewer:
    """One viewer socket of a load process: every frame is handled in the socket's callback."""

    __slots__ = ("before", "got", "reactions", "sock", "st", "state", "unique")

    def __init__(self, st: WorkerState) -> None:
        self.st = st
        self.got = bytearray(st.max_comments)
        self.unique = 0
        self.reactions = 0
        self.before: list[str] = []  # frames that came before `room.state` (there must be none)
        self.state: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sock: LeanSocket | None = None

    @property
    def closed(self) -> bool:
        return self.sock is None or self.sock.closed

    def on_text(self, payload: bytes) -> None:
        now = time.monotonic()
        st = self.st
        head = payload[:32]
        if not self.state.done():
            if b'"room.state"' in head[:24]:
                self.state.set_result(None)
            else:
                self.before.append(payload[:120].decode(errors="replace"))
            return
        if b"comment.created" in head:
            id_text, _, sent_text = json.loads(payload)["comment"]["text"].partition(":")
            cid = int(id_text)
            got = self.got
            if cid >= len(got):
                st.foreign += 1
            elif got[cid]:
                st.duplicates += 1
            else:
                got[cid] = 1
                self.unique += 1
                delay = now - float(sent_text)
                st.latencies.append(delay)
                if delay > st.reach[cid]:
                    st.reach[cid] = delay
        elif b'"reactions"' in head:
            if st.t0 <= now <= st.t1:
                self.reactions += 1
        elif b'"error"' in head:
            st.errors += 1
            st.error_sample = st.error_sample or payload[:200].decode(errors="replace")


async def open_viewer(url: str, origin: str, st: WorkerState) -> Viewer:
    """Connect a viewer and wait for its first `room.state`."""
    parts = urlsplit(url)
    viewer = Viewer(st)
    viewer.sock = await open_lean(parts.hostname or HOST, parts.port or 80, parts.path, origin, viewer.on_text)
    try:
        await asyncio.wait_for(viewer.state, 30)
    except BaseException:
        viewer.sock.abort()
        raise
    return viewer


@dataclass
class WorkerState:
    max_comments: int
    t0: float = math.inf
    t1: float = -math.inf
    latencies: array[float] = field(default_factory=lambda: array("d"))
    reach: array[float] = field(default_factory=lambda: array("d"))  # per comment: slowest viewer
    duplicates: int = 0
    foreign: int = 0
    errors: int = 0
    error_sample: str = ""
    reactions_sent: int = 0
    send_failures: int = 0

    def __post_init__(self) -> None:
        self.reach = array("d", [0.0]) * self.max_comments


async def send_reactions(viewers: list[Viewer], st: WorkerState, rng: random.Random, period: float) -> None:
    """Each viewer sends a heart about every `period` seconds in [t0, t1), jittered +-25 %."""
    await sleep_until(st.t0)
    if period <= 0:
        return
    due = [(st.t0 + rng.uniform(0, period), n) for n in range(len(viewers))]
    heapq.heapify(due)
    while due and time.monotonic() < st.t1:
        now = time.monotonic()
        while due and due[0][0] <= now:
            when, n = heapq.heappop(due)
            viewer = viewers[n]
            if viewer.closed:
                continue
            if viewer.sock is None or not viewer.sock.send_text(REACTION_BYTES):
                st.send_failures += 1
                continue
            st.reactions_sent += 1
            heapq.heappush(due, (when + period * rng.uniform(0.75, 1.25), n))
        await asyncio.sleep(0.02)


def _receive(conn: Connection, timeout: float) -> Any:
    if not conn.poll(timeout):
        raise TimeoutError("no word from the coordinator")
    return conn.recv()


async def control(conn: Connection, within: float) -> Any:
    return await asyncio.to_thread(_receive, conn, within)


async def run_worker(conn: Connection, cfg: dict[str, Any]) -> None:
    st = WorkerState(cfg["max_comments"])
    rng = random.Random(cfg["seed"])  # noqa: S311 - jitter, not secrets
    viewers: list[Viewer] = []
    failures, late_state, failure_sample, late_sample = 0, 0, "", ""
    started = time.monotonic()
    try:
        for first in range(0, cfg["viewers"], cfg["batch"]):
            count = min(cfg["batch"], cfg["viewers"] - first)
            opened = await asyncio.gather(
                *(open_viewer(cfg["url"], cfg["origin"], st) for _ in range(count)), return_exceptions=True
            )
            for item in opened:
                if isinstance(item, BaseException):
                    failures += 1
                    failure_sample = failure_sample or repr(item)[:200]
                    continue
                late_state += bool(item.before)
                late_sample = late_sample or " ".join(item.before)[:200]
                viewers.append(item)
        elapsed = time.monotonic() - started
        conn.send(("connected", len(viewers), failures, late_state, failure_sample, elapsed, late_sample))

        _, st.t0, st.t1 = await control(conn, cfg["phase_timeout"])
        reacting = asyncio.create_task(send_reactions(viewers, st, rng, cfg["hearts_every"]))
        await sleep_until(st.t0)
        cpu0 = time.process_time()

        _, acked, deadline = await control(conn, cfg["phase_timeout"])
        need = len(acked)

        for _ in range(math.ceil((deadline - time.monotonic()) / 0.05)):
            if all(v.unique >= need or v.closed for v in viewers):
                break
            await asyncio.sleep(0.05)
        conn.send(("drained", time.monotonic(), time.process_time() - cpu0))
        reacting.cancel()

        missing = [need - sum(v.got[cid] for cid in acked) for v in viewers]
        conn.send(
            (
                "result",
                {
                    "viewers": len(viewers),
                    "latencies": st.latencies.tobytes(),
                    "reach": st.reach.tobytes(),
                    "missing": sum(missing),
                    "viewers_missing": sum(1 for m in missing if m),
                    "closed": sum(1 for v in viewers if v.closed),
                    "duplicates": st.duplicates,
                    "foreign": st.foreign,
                    "errors": st.errors,
                    "error_sample": st.error_sample,
                    "reactions": [v.reactions for v in viewers],
                    "reactions_sent": st.reactions_sent,
                    "send_failures": st.send_failures,
                },
            )
        )
        with contextlib.suppress(Exception):
            await control(conn, 30)  # "close"
    finally:
        for viewer in viewers:
            if viewer.sock is not None:
                viewer.sock.abort()


def load_worker(conn: Connection, cfg: dict[str, Any]) -> None:
    """Entry point of a load process."""
    try:
        asyncio.run(asyncio.wait_for(run_worker(conn, cfg), cfg["hard_timeout"]))
    except BaseException as exc:
        with contextlib.suppress(Exception):
            conn.send(("failed", repr(exc)[:500]))
    finally:
        conn.close()


# --- the coordinator (this process): host socket, phases, readings ---------------------------


class HostSocket:
    """The host: posts `comment.post` on a fixed schedule and counts the answers."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.acked: set[int] = set()
        self.refused: set[int] = set()
        self.error_sample = ""
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                head = str(raw[:24])
                if '"ack"' not in head and '"error"' not in head:
                    continue
                frame = json.loads(raw)
                ref = str(frame.get("ref") or "")
                if not ref.startswith("c"):
                    continue
                if frame["type"] == "ack":
                    self.acked.add(int(ref[1:]))
                else:
                    self.refused.add(int(ref[1:]))
                    self.error_sample = self.error_sample or str(raw)[:200]

    async def post(self, t0: float, t1: float, rate: float) -> int:
        n = 0
        while t0 + n / rate < t1:
            await sleep_until(t0 + n / rate)
            text = f"{n}:{time.monotonic():.6f}"
            await self.ws.send(json.dumps({"type": "comment.post", "text": text, "ref": f"c{n}"}))
            n += 1
        return n

    async def answered(self, posted: int, within: float) -> None:
        for _ in range(math.ceil(within / 0.02)):
            if len(self.acked) + len(self.refused) >= posted:
                break
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self.reader.cancel()
        self.ws.transport.abort()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader


@dataclass
class Outcome:
    target: str
    what: str
    viewers: int
    connect_failures: int
    connect_sample: str
    late_state: int
    late_sample: str
    connect_seconds: float
    posted: int
    acked: int
    refused: int
    unanswered: int
    refused_sample: str
    window: float
    drained_after: float
    server_cpu: float
    server_threads_cpu: float
    steady_util: float
    reaction_frames: int
    deliveries: int
    expected: int
    lost: int
    viewers_missing: int
    closed: int
    duplicates: int
    errors: int
    error_sample: str
    latency_p50: float
    latency_p99: float
    latency_max: float
    reach_p50: float
    reach_p99: float
    reach_max: float
    rss_per_conn: float
    rss_total: int
    reactions_mean: float
    reactions_max: float
    reactions_sent: int
    load_cpu: list[float]
    machine_busy: float
    others_cpu: float
    irq_cpu: float
    others_top: str

    @property
    def cpu_per_delivery_us(self) -> float:
        return self.server_cpu / self.deliveries * 1e6 if self.deliveries else math.nan

    @property
    def kept_up(self) -> bool:
        """Every post answered and delivered within 1 s of the last post, the server's core not maxed out."""
        return self.unanswered == 0 and self.lost == 0 and self.drained_after <= 1.0 and self.steady_util < 0.95

    @property
    def cpu_per_frame_us(self) -> float:
        frames = self.deliveries + self.reaction_frames
        return self.server_cpu / frames * 1e6 if frames else math.nan

    @property
    def server_util(self) -> float:
        return self.server_cpu / (self.window + self.drained_after)


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def expect(pipes: list[Connection], kind: str, within: float) -> list[tuple[Any, ...]]:
    """One message of `kind` from every worker (a worker's failure stops the run)."""
    replies = []
    deadline = time.monotonic() + within
    for pipe in pipes:
        message = await control(pipe, max(0.1, deadline - time.monotonic()))
        if message[0] == "failed":
            raise RuntimeError(f"load worker failed: {message[1]}")
        if message[0] != kind:
            raise RuntimeError(f"load worker sent {message[0]!r}, expected {kind!r}")
        replies.append(message)
    return replies


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def run_target(target: Target, args: argparse.Namespace, env: dict[str, str], slug: str, session: str) -> Outcome:
    tmp = Path(env["LIVEROOMS_VAR_DIR"]).parent
    log = tmp / f"{target.name}.log"
    port = free_port()
    url, origin = f"ws://{HOST}:{port}/ws/rooms/{slug}/", f"http://{HOST}:{port}"
    max_comments = math.ceil(args.rate * args.seconds) + 2
    connect_timeout = 60 + args.viewers / 25
    phase_timeout = connect_timeout + args.seconds + DRAIN_TIMEOUT + 60
    context = multiprocessing.get_context("spawn")
    workers: list[multiprocessing.process.BaseProcess] = []
    pipes: list[Connection] = []
    host: HostSocket | None = None
    profiler: subprocess.Popen[bytes] | None = None
    server = start_server(target, port, env, log)
    try:
        await wait_for_port(port, server, log)
        ws, _ = await open_socket(url, origin, {"Cookie": f"sessionid={session}"})
        host = HostSocket(ws)
        await asyncio.sleep(1.0)
        rss0 = rss_bytes(server.pid)

        shares = [
            args.viewers // args.load_procs + (n < args.viewers % args.load_procs) for n in range(args.load_procs)
        ]
        batch = max(1, math.ceil(args.batch / args.load_procs))
        for n, share in enumerate(shares):
            mine, theirs = context.Pipe()
            cfg = {
                "url": url,
                "origin": origin,
                "viewers": share,
                "batch": batch,
                "max_comments": max_comments,
                "seed": args.seed * 100 + n,
                "hearts_every": args.hearts_every,
                "phase_timeout": phase_timeout,
                "hard_timeout": phase_timeout * 3,
            }
            worker = context.Process(target=load_worker, args=(theirs, cfg), name=f"fanout-load-{n}", daemon=True)
            worker.start()
            theirs.close()
            workers.append(worker)
            pipes.append(mine)
        say(f"[{target.name}] server pid {server.pid} on :{port}; opening {args.viewers} viewer sockets")
        connected = await expect(pipes, "connected", connect_timeout)
        viewers = sum(c[1] for c in connected)
        connect_failures = sum(c[2] for c in connected)
        if viewers == 0:
            raise RuntimeError(f"no viewer could connect: {connected[0][4]}\n{log_tail(log)}")
        await asyncio.sleep(SETTLE)
        rss1 = rss_bytes(server.pid)
        say(f"[{target.name}] {viewers} viewers connected ({connect_failures} failed); steady load {args.seconds:g} s")

        t0 = time.monotonic() + 0.5
        t1 = t0 + args.seconds
        for pipe in pipes:
            pipe.send(("start", t0, t1))
        if args.profile:
            profiler = start_profiler(server.pid, args.profile / f"{target.name}-n{args.viewers}.txt", args.seconds)
        await sleep_until(t0)
        cpu0, jiffies0, own0 = cpu_seconds(server.pid), machine_jiffies(), time.process_time()
        main0, procs0 = cpu_seconds(server.pid, main_thread=True), all_cpu()
        posted = await host.post(t0, t1, args.rate)
        cpu_t1 = cpu_seconds(server.pid)
        await host.answered(posted, DRAIN_TIMEOUT)
        acked = sorted(host.acked)
        for pipe in pipes:
            pipe.send(("posted", acked, time.monotonic() + DRAIN_TIMEOUT))
        drained = await expect(pipes, "drained", DRAIN_TIMEOUT + 30)
        cpu1, jiffies1, own1 = cpu_seconds(server.pid), machine_jiffies(), time.process_time()
        main1, procs1 = cpu_seconds(server.pid, main_thread=True), all_cpu()
        ours_pids = {os.getpid(), server.pid, *(w.pid for w in workers if w.pid is not None)}
        if profiler is not None:
            ours_pids.add(profiler.pid)
        ended = max(d[1] for d in drained)
        results = [r[1] for r in await expect(pipes, "result", 60)]
        for pipe in pipes:
            pipe.send(("close",))

        latencies = sorted(x for r in results for x in array("d", r["latencies"]))
        reach = [0.0] * max_comments
        for r in results:
            for cid, delay in enumerate(array("d", r["reach"])):
                reach[cid] = max(reach[cid], delay)
        reach_acked = sorted(reach[cid] for cid in acked)
        reactions = [count / args.seconds for r in results for count in r["reactions"]]
        busy_total, busy_idle, irq = (b - a for a, b in zip(jiffies0, jiffies1, strict=True))
        # CPU of processes other than the server and the load (another job on the machine skews results)
        ours = (cpu1 - cpu0) + (own1 - own0) + sum(d[2] for d in drained)
        others = (busy_total - busy_idle - irq) / CLK_TCK - ours
        return Outcome(
            target=target.name,
            what=target.what,
            viewers=viewers,
            connect_failures=connect_failures,
            connect_sample=next((c[4] for c in connected if c[4]), ""),
            late_state=sum(c[3] for c in connected),
            late_sample=next((c[6] for c in connected if c[6]), ""),
            connect_seconds=max(c[5] for c in connected),
            posted=posted,
            acked=len(acked),
            refused=len(host.refused),
            unanswered=posted - len(acked) - len(host.refused),
            refused_sample=host.error_sample,
            window=args.seconds,
            drained_after=max(0.0, ended - t1),
            server_cpu=cpu1 - cpu0,
            steady_util=(cpu_t1 - cpu0) / args.seconds,
            server_threads_cpu=(cpu1 - cpu0) - (main1 - main0),
            reaction_frames=round(sum(reactions) * args.seconds),
            deliveries=len(latencies),
            expected=len(acked) * viewers,
            lost=sum(r["missing"] for r in results),
            viewers_missing=sum(r["viewers_missing"] for r in results),
            closed=sum(r["closed"] for r in results),
            duplicates=sum(r["duplicates"] for r in results),
            errors=sum(r["errors"] for r in results),
            error_sample=next((r["error_sample"] for r in results if r["error_sample"]), ""),
            latency_p50=percentile(latencies, 0.50),
            latency_p99=percentile(latencies, 0.99),
            latency_max=latencies[-1] if latencies else math.nan,
            reach_p50=percentile(reach_acked, 0.50),
            reach_p99=percentile(reach_acked, 0.99),
            reach_max=reach_acked[-1] if reach_acked else math.nan,
            rss_per_conn=(rss1 - rss0) / viewers,
            rss_total=rss1,
            reactions_mean=sum(reactions) / len(reactions) if reactions else 0.0,
            reactions_max=max(reactions, default=0.0),
            reactions_sent=sum(r["reactions_sent"] for r in results),
            load_cpu=[d[2] / (ended - t0) for d in drained],
            machine_busy=1 - busy_idle / busy_total if busy_total else math.nan,
            others_cpu=max(0.0, others / (ended - t0)),
            irq_cpu=irq / CLK_TCK / (ended - t0),
            others_top=busiest_others(procs0, procs1, ours_pids),
        )
    finally:
        if host is not None:
            await host.close()
        for pipe in pipes:
            with contextlib.suppress(OSError):
                pipe.send(("close",))
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
                worker.join(timeout=5)
        if profiler is not None:
            stop_process(profiler)
        stop_process(server)


def start_profiler(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes] | None:
    """Optional (`--profile DIR`): py-spy samples the server through the steady window."""
    spy = Path(PYTHON).parent / "py-spy"
    if not spy.exists():
        say("py-spy is not installed in the venv; --profile ignored")
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [str(spy), "record", "--pid", str(pid), "--duration", str(math.ceil(seconds)), "--format", "raw"]
    return subprocess.Popen(
        [*argv, "--rate", "200", "--threads", "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


# --- report ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.0f} ms"


def table(outcomes: list[Outcome]) -> str:
    rows: list[tuple[str, list[str]]] = [
        (
            "viewers connected",
            [f"{o.viewers} ({o.connect_failures} failed, {o.connect_seconds:.0f} s)" for o in outcomes],
        ),
        ("comments posted / acked", [f"{o.posted} / {o.acked}" + (" (!)" if o.unanswered else "") for o in outcomes]),
        ("kept up with the load", ["yes" if o.kept_up else "NO (saturated)" for o in outcomes]),
        ("deliveries (got / expected)", [f"{o.deliveries} / {o.expected}" for o in outcomes]),
        ("server CPU per delivery", [f"{o.cpu_per_delivery_us:.1f} us" for o in outcomes]),
        ("server CPU, steady window", [f"{o.steady_util:.0%} of a core" for o in outcomes]),
        ("server CPU until drained", [f"{o.server_cpu:.1f} s ({o.server_util:.0%} of a core)" for o in outcomes]),
        ("  of which not main thread", [f"{o.server_threads_cpu:.1f} s" for o in outcomes]),
        ("server CPU per frame written", [f"{o.cpu_per_frame_us:.1f} us" for o in outcomes]),
        ("latency p50", [ms(o.latency_p50) for o in outcomes]),
        ("latency p99", [ms(o.latency_p99) for o in outcomes]),
        ("latency max", [ms(o.latency_max) for o in outcomes]),
        ("reach all viewers p99", [ms(o.reach_p99) for o in outcomes]),
        ("lost frames", [f"{o.lost} ({o.viewers_missing} viewers)" for o in outcomes]),
        ("duplicates / closed", [f"{o.duplicates} / {o.closed}" for o in outcomes]),
        ("RSS per connection", [f"{o.rss_per_conn / 1024:.1f} KiB" for o in outcomes]),
        ("server RSS", [f"{o.rss_total / 2**20:.0f} MiB" for o in outcomes]),
        ("reactions frames/viewer/s", [f"{o.reactions_mean:.2f} (max {o.reactions_max:.2f})" for o in outcomes]),
        ("load procs CPU", [" + ".join(f"{c:.0%}" for c in o.load_cpu) for o in outcomes]),
        ("machine busy (2 cores)", [f"{o.machine_busy:.0%}" for o in outcomes]),
        ("  irq + softirq (loopback TCP)", [f"{o.irq_cpu:.0%} of a core" for o in outcomes]),
        ("  other jobs on the machine", [f"{o.others_cpu:.0%} of a core" for o in outcomes]),
        ("error frames to viewers", [str(o.errors) for o in outcomes]),
        ("frames before room.state", [str(o.late_state) for o in outcomes]),
    ]
    header = ["", *(o.target for o in outcomes)]
    widths = [max(len(header[i]), *(len(r[1][i - 1]) if i else len(r[0]) for r in rows)) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for name, cells in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip([name, *cells], widths, strict=True)))
    return "\n".join(lines)


def ratios(outcomes: list[Outcome]) -> list[str]:
    by_name = {o.target: o for o in outcomes}
    ours = by_name.get("liverooms")
    if ours is None or not ours.deliveries:
        return []
    lines = []
    for name in ("tutorial", "websockets"):
        ref = by_name.get(name)
        if ref is None or not ref.deliveries:
            continue
        ratio = ref.cpu_per_delivery_us / ours.cpu_per_delivery_us
        verdict = f"liverooms {ratio:.1f}x cheaper" if ratio >= 1 else f"liverooms {1 / ratio:.1f}x dearer"
        caveat = [f"{o.target} saturated" for o in (ours, ref) if not o.kept_up]
        note = f"; {', '.join(caveat)}: CPU per delivery at saturation, not at this load" if caveat else ""
        lines.append(f"{name} / liverooms CPU per delivery = {ratio:.2f}  ({verdict}{note})")
    return lines


def targets_verdict(outcomes: list[Outcome], rate: float) -> list[str]:
    by_name = {o.target: o for o in outcomes}
    ours = by_name.get("liverooms")
    if ours is None:
        return []
    tutorial = by_name.get("tutorial")
    checks = [
        ("p99 latency <= 250 ms", ours.latency_p99 <= 0.250),
        ("zero lost frames", ours.lost + ours.connect_failures + ours.closed == 0),
        (f"every post acknowledged within {DRAIN_TIMEOUT:g} s", ours.unanswered == 0),
        ("<= 5 reactions frames/viewer/s", ours.reactions_max <= 5.0),
    ]
    if tutorial is not None and tutorial.deliveries and ours.deliveries:
        checks.append(("5x cheaper than tutorial", tutorial.cpu_per_delivery_us / ours.cpu_per_delivery_us >= 5))
    head = f"liverooms at {ours.viewers} viewers, {rate:g} comments/s:"
    return [head, *(f"  [{'ok' if good else 'NOT MET'}] {name}" for name, good in checks)]


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=2000, help="viewer sockets (default 2000)")
    parser.add_argument("--rate", type=float, default=5.0, help="comments per second (default 5)")
    parser.add_argument("--seconds", type=float, default=20.0, help="steady window in seconds (default 20)")
    parser.add_argument(
        "--targets",
        default="liverooms,tutorial,websockets",
        help="comma-separated servers to measure (default: liverooms,tutorial,websockets)",
    )
    parser.add_argument(
        "--load-procs", type=int, default=0, help="load processes (default: 1 up to 500 viewers, else 2)"
    )
    parser.add_argument("--batch", type=int, default=50, help="handshakes in flight at once (default 50)")
    parser.add_argument("--hearts-every", type=float, default=2.0, help="seconds between a viewer's hearts (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--quiet-wait", type=float, default=0, help="before each server, wait up to this long for an idle machine"
    )
    parser.add_argument(
        "--app", type=Path, default=ROOT, help="liverooms checkout to serve (default: the one holding this script)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--profile", type=Path, help="py-spy each server's steady window into this directory")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server logs)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.targets.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS]
    if unknown or not names:
        parser.error(f"unknown target(s) {unknown}; choose from {', '.join(TARGETS)}")
    if args.viewers < 1 or args.rate <= 0 or args.seconds <= 0 or args.batch < 1:
        parser.error("--viewers, --rate, --seconds and --batch must be positive")
    args.targets = names
    args.app = args.app.resolve()
    args.load_procs = args.load_procs or (1 if args.viewers <= 500 else 2)
    return args


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        with contextlib.suppress(ValueError, OSError):  # raising the hard limit needs CAP_SYS_RESOURCE (root)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, needed))
            hard = needed
    want = min(hard, max(soft, needed)) if hard != resource.RLIM_INFINITY else max(soft, needed)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < needed:
        say(f"warning: open-files limit {want} is below the {needed} this run needs")


async def main_async(args: argparse.Namespace, tmp: Path) -> tuple[list[Outcome], list[str]]:
    """Measure each target in turn; returns the outcomes and the targets that could not be measured."""
    env = server_env(tmp, args.app)
    say(f"preparing a throwaway database in {tmp}")
    slug, session = prepare_database(env)
    outcomes, failed = [], []
    budget = 2 * DRAIN_TIMEOUT + 150 + args.viewers / 25 + args.seconds
    for name in args.targets:
        await wait_for_quiet(args.quiet_wait)
        try:
            outcome = await asyncio.wait_for(run_target(TARGETS[name], args, env, slug, session), budget)
        except Exception as exc:  # one server failing must not hide the others' figures
            say(f"[{name}] could not be measured: {exc!r}")
            failed.append(name)
            continue
        say(
            f"[{name}] {outcome.cpu_per_delivery_us:.1f} us CPU/delivery, p99 {ms(outcome.latency_p99)}, "
            f"lost {outcome.lost}"
        )
        outcomes.append(outcome)
    return outcomes, failed


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through every `finally`: servers are stopped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    raise_fd_limit(args.viewers + 1024)
    tmp = Path(tempfile.mkdtemp(prefix="liverooms-fanout-"))
    started = time.monotonic()
    try:
        outcomes, failed = asyncio.run(main_async(args, tmp))
    finally:
        if args.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    cores = os.cpu_count()
    hearts = f"a heart every {args.hearts_every:g} s per viewer" if args.hearts_every > 0 else "no hearts"
    print(
        f"\nfan-out: {args.viewers} viewers, {args.rate:g} comments/s for {args.seconds:g} s, "
        f"{hearts}; {args.load_procs} load process(es); {cores} cores "
        f"shared by server and load; total {time.monotonic() - started:.0f} s\n"
    )
    print(table(outcomes))
    print()
    for line in [*ratios(outcomes), *targets_verdict(outcomes, args.rate)]:
        print(line)
    for o in outcomes:
        if o.refused:
            print(f"note: {o.target} refused {o.refused} comments, e.g. {o.refused_sample}")
        if o.connect_failures:
            print(f"note: {o.connect_failures} {o.target} sockets failed to connect, e.g. {o.connect_sample}")
        if o.unanswered:
            print(f"note: {o.target} answered {o.posted - o.unanswered} of {o.posted} posts in time")
        if o.errors:
            print(f"note: {o.target} sent {o.errors} error frames to viewers, e.g. {o.error_sample}")
        if o.others_cpu >= 0.05:
            print(f"note: during {o.target}, other processes used CPU: {o.others_top}")
        if o.late_state:
            print(f"note: {o.late_state} {o.target} sockets got frames before room.state, e.g. {o.late_sample}")
    if args.json:
        payload = [
            {**o.__dict__, "cpu_per_delivery_us": o.cpu_per_delivery_us, "cpu_per_frame_us": o.cpu_per_frame_us}
            for o in outcomes
        ]
        args.json.write_text(
            json.dumps({"args": vars(args), "results": payload, "failed": failed}, indent=1, default=str)
        )
    if failed:
        print(f"not measured: {', '.join(failed)} (see above)")
    return 1 if failed or not outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
