"""Recording benchmark: what recording a full live room (4 seats publishing) costs the server.

    .venv/bin/python bench/recording.py [--window 20] [--rounds 2] [--hour-seconds 3600] [--json FILE]

One run, the same load, the server started afresh for each measurement, recording off and on
alternating (`--rounds` of each, so a machine whose other load drifts hits both alike):

- the server: `daphne liverooms.asgi:application` on a throwaway SQLite database, one live room
  with 4 seated users (bench/relay.py's set-up), `RECORDING_ENABLED=0` or `1`, `MEDIA_ROOT` in the
  run's temporary directory;
- the load: bench/relay.py's publisher process, 4 WHIP peers sending a pre-encoded clip (VP8
  640x360 30 fps ~0.8 Mbit/s + Opus 20 ms): the publishers do not encode, no viewer.

Measured over `--window` seconds after a settle: the daphne process's CPU (utime + stime, /proc)
in cores and its RSS, and with recording on the bytes written under MEDIA_ROOT (disk per hour per
seat). Then the room is ended from another process (`rooms.actions.end_room`) and the time until
`Replay.ready_at` is set is read from the database: the server hears the end through its hub's
once-a-second check of the room's last event (one process, in-memory channel layer, as `make run`),
closes the files and marks the replay ready.

And, without a server, a synthetic hour (`--hour-seconds` of the clip's packets written into one
seat's WebM as fast as the writer takes them): the time to close it (the cues of an hour) and the
time recovery takes to remux it, which bound the end-to-ready time of a one-hour live and the
repair of a crashed one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from processes import log_tail, stop_process  # bench/processes.py (the scripts run from bench/)
from relay import (
    PYTHON,
    ROOT,
    Bench,
    cpu_seconds,
    encode_clip,
    free_port,
    prepare_database,
    rss_mb,
    say,
    server_env,
    start_server,
    wait_for_port,
)

END_SNIPPET = """
import json, sys, time
import django
django.setup()
from rooms.actions import end_room
from rooms.models import Room
from media.models import Replay
room = Room.objects.get(slug=sys.argv[1])
end_room(room=room)
ended = time.monotonic()
ready = None
while time.monotonic() - ended < 60:
    if Replay.objects.filter(room=room, ready_at__isnull=False).exists():
        ready = time.monotonic() - ended
        break
    time.sleep(0.02)
rows = list(Replay.objects.get(room=room).recordings.values("seat_index", "size", "duration", "dropped_frames"))
print(json.dumps({"ready_after": ready, "recordings": rows}))
"""


def media_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def run_server(args: argparse.Namespace, tmp: Path, recording: bool) -> dict[str, Any]:
    env = server_env(tmp)
    media = tmp / "media"
    env.update({"MEDIA_ROOT": str(media), "RECORDING_ENABLED": "1" if recording else "0"})
    slug, tokens = prepare_database(env)
    port = free_port()
    log = tmp / "server.log"
    server = start_server("liverooms.asgi:application", port, env, log)
    bench: Bench | None = None
    try:
        wait_for_port(port, server, log)
        bench = Bench("recording" if recording else "relay only", port, server, argparse.Namespace(load_procs=0))
        bench.publish([(f"/rooms/{slug}/whip", token) for token in tokens])
        time.sleep(args.settle)
        cpu0, bytes0, t0 = cpu_seconds(server.pid), media_bytes(media), time.monotonic()
        time.sleep(args.window)
        cpu1, bytes1, t1 = cpu_seconds(server.pid), media_bytes(media), time.monotonic()
        result: dict[str, Any] = {
            "recording": recording,
            "cores": (cpu1 - cpu0) / (t1 - t0),
            "rss_mb": rss_mb(server.pid),
            "bytes_per_second": (bytes1 - bytes0) / (t1 - t0),
            "publishers": dict(bench.publisher_states),
        }
        if recording:
            done = subprocess.run(
                [PYTHON, "-c", END_SNIPPET, slug],
                cwd=ROOT,
                env=env,
                check=True,
                timeout=90,
                capture_output=True,
                text=True,
            )
            result.update(json.loads(done.stdout.strip().splitlines()[-1]))
        name = "recording" if recording else "relay only"
        say(
            f"{name}: {result['cores']:.3f} cores, RSS {result['rss_mb']:.0f} MB, "
            f"{result['bytes_per_second'] / 1024:.0f} KiB/s written"
            + (f", ready {result['ready_after']:.2f} s after the end" if recording else "")
        )
        return result
    finally:
        if bench is not None:
            bench.close()
        stop_process(server)
        errors = [line for line in log_tail(log, 400).splitlines() if "Traceback" in line or "ERROR" in line]
        if errors:
            say(f"server log has {len(errors)} error lines; tail:\n{log_tail(log, 20)}")


def synthetic_hour(seconds: float, tmp: Path) -> dict[str, Any]:
    """Write `seconds` of the clip (30 fps video, 50 Opus frames/s) into one WebM seat file, close it,
    then remux it as recovery would."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liverooms.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from media.recording.recovery import remux
    from media.recording.writer import SeatFile
    from media.vp8 import is_vp8_keyframe

    video, audio = encode_clip("vp8")
    path = tmp / "hour.webm"
    started = time.monotonic()
    cpu = time.process_time()
    seat = SeatFile(path, video=("vp8", 640, 360), audio=True, flush_seconds=2.0)
    frames = int(seconds * 30)
    sounds = 0
    for n in range(frames):
        data = video[n % len(video)]
        seat.write_video(data, n / 30, is_vp8_keyframe(data))
        while sounds * 0.02 < (n + 1) / 30:  # 50 Opus frames a second, in time order
            seat.write_audio(audio[sounds % len(audio)], sounds * 0.02)
            sounds += 1
    written = time.monotonic() - started
    write_cpu = time.process_time() - cpu
    closing = time.monotonic()
    seat.close()
    close_seconds = time.monotonic() - closing
    size = path.stat().st_size
    remuxing = time.monotonic()
    duration, packets = remux(path, tmp / "hour-recovered.webm", "webm")
    remux_seconds = time.monotonic() - remuxing
    result = {
        "seconds": seconds,
        "bytes": size,
        "write_seconds": written,
        "write_cpu_seconds": write_cpu,
        "close_seconds": close_seconds,
        "remux_seconds": remux_seconds,
        "remuxed_duration": duration,
        "remuxed_packets": packets,
    }
    say(
        f"synthetic {seconds / 60:.0f} min: {size / 1e6:.0f} MB written in {written:.1f} s "
        f"({write_cpu:.1f} s CPU), closed in {close_seconds * 1000:.0f} ms, recovery remux {remux_seconds:.1f} s"
    )
    return result


def report(results: dict[str, Any]) -> str:
    off = [r for r in results["runs"] if not r["recording"]]
    on = [r for r in results["runs"] if r["recording"]]
    cores_off = statistics.mean(r["cores"] for r in off)
    cores_on = statistics.mean(r["cores"] for r in on)
    rss_off = statistics.mean(r["rss_mb"] for r in off)
    rss_on = statistics.mean(r["rss_mb"] for r in on)
    per_seat_hour = statistics.mean(r["bytes_per_second"] for r in on) / 4 * 3600
    ready = [r["ready_after"] for r in on if r.get("ready_after") is not None]
    hour = results.get("hour")
    lines = [
        "| | relay only | relay + recording | recording's cost |",
        "|---|---|---|---|",
        f"| server CPU, 4 seats publishing (cores) | {cores_off:.3f} | {cores_on:.3f} | "
        f"+{cores_on - cores_off:.3f} ({cores_on / cores_off:.2f}x) |",
        f"| server RSS (MB) | {rss_off:.0f} | {rss_on:.0f} | +{rss_on - rss_off:.0f} |",
        f"| disk per hour per seat | | {per_seat_hour / 1e6:.0f} MB | |",
        f"| room end -> replay ready | | {', '.join(f'{r:.2f} s' for r in ready)} | |",
    ]
    if hour:
        lines.append(
            f"| a {hour['seconds'] / 60:.0f}-minute seat file: close / recovery remux | | "
            f"{hour['close_seconds'] * 1000:.0f} ms / {hour['remux_seconds']:.1f} s ({hour['bytes'] / 1e6:.0f} MB) | |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured per server run")
    parser.add_argument("--settle", type=float, default=4.0, help="seconds after the publishers connect")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each mode (off, on, off, on, ...)")
    parser.add_argument("--hour-seconds", type=float, default=3600.0, help="length of the synthetic file (0: skip)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="recording-bench-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    results: dict[str, Any] = {"runs": [], "args": {k: str(v) for k, v in vars(args).items()}}
    try:
        for round_ in range(args.rounds):
            for recording in (False, True):
                run_dir = tmp / f"run-{round_}-{'on' if recording else 'off'}"
                run_dir.mkdir()
                results["runs"].append(run_server(args, run_dir, recording))
        if args.hour_seconds:
            results["hour"] = synthetic_hour(args.hour_seconds, tmp)
        table = report(results)
        print(table)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        if args.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
