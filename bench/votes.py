"""A Hotline vote storm: N signed-in viewers vote for one question within about a second.

    .venv/bin/python bench/votes.py [--voters 500] [--spread 1.0]

One daphne serving liverooms on a throwaway SQLite database (bench/processes.py), one live room, one
open question, N viewer sockets (each a signed-in user). Every viewer sends `question.vote` at a
random moment within `--spread` seconds. Measured on each socket: how many `question.updated`
frames arrived, over how long, and whether the last one carries the exact total. The baseline of
the same run is one frame per vote (what publishing every vote would send): the ratio is how much
the coalescing (one frame per question per 200 ms hub tick) saves each socket.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from processes import server_env, stop_process
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

SETUP = """
import json, django
django.setup()
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from rooms.actions import create_room
from comments.questions import ask

def session(user):
    s = SessionStore()
    s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key

host = User.objects.create_user("host", password=None)
room = create_room(host=host, title="Vote storm")
asker = User.objects.create_user("asker", password=None)
question = ask(room=room, user=asker, text="Will you sing?")
voters = User.objects.bulk_create([User(username=f"v{n}") for n in range(VOTERS)])
print(json.dumps({"slug": room.slug, "question": question.pk, "sessions": [session(u) for u in voters]}))
"""


async def viewer(url: str, origin: str, session: str) -> object:
    return await connect(
        url, origin=origin, additional_headers={"Cookie": f"sessionid={session}"}, compression=None, max_queue=None
    )


def prepare(tmp: Path, voters: int) -> tuple[dict[str, str], dict[str, object]]:
    """The throwaway database: migrated, a live room, one open question, `voters` users."""
    env = server_env(tmp, debug=False)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=180)
    setup = subprocess.run(
        [PYTHON, "-c", SETUP.replace("VOTERS", str(voters))],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    return env, json.loads(setup.stdout.strip().splitlines()[-1])


async def storm(port: int, data: dict[str, object], voters: int, spread: float) -> dict[str, float]:
    url, origin = f"ws://127.0.0.1:{port}/ws/rooms/{data['slug']}/", f"http://127.0.0.1:{port}"
    sessions: list[str] = data["sessions"]  # type: ignore[assignment]
    sockets = []
    for n in range(0, voters, 50):
        sockets += await asyncio.gather(*(viewer(url, origin, s) for s in sessions[n : n + 50]))
    for ws in sockets:
        while json.loads(await ws.recv())["type"] != "room.state":  # type: ignore[attr-defined]
            pass
    updates: list[list[tuple[float, int]]] = [[] for _ in sockets]
    settled = asyncio.Event()
    exact = [0]

    async def listen(n: int, ws: object) -> None:
        while True:
            frame = json.loads(await ws.recv())  # type: ignore[attr-defined]
            if frame["type"] == "question.updated":
                updates[n].append((time.monotonic(), frame["votes"]))
                if frame["votes"] == voters:
                    exact[0] += 1
                    if exact[0] == voters:
                        settled.set()

    async def vote(ws: object) -> None:
        await asyncio.sleep(random.uniform(0, spread))  # noqa: S311
        await ws.send(json.dumps({"type": "question.vote", "question_id": data["question"], "up": True}))  # type: ignore[attr-defined]

    listeners = [asyncio.create_task(listen(n, ws)) for n, ws in enumerate(sockets)]
    started = time.monotonic()
    await asyncio.gather(*(vote(ws) for ws in sockets))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(settled.wait(), 30)
    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()  # type: ignore[attr-defined]
    frames = [len(u) for u in updates]
    window = max((u[-1][0] for u in updates if u), default=started) - started
    return {
        "voters": voters,
        "frames_mean": statistics.mean(frames),
        "frames_max": max(frames),
        "window_s": window,
        "frames_per_socket_per_s": statistics.mean(frames) / max(window, 1e-9),
        "exact_totals": exact[0],
    }


def run(voters: int, spread: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="liverooms-votes-") as tmp:
        env, data = prepare(Path(tmp), voters)
        port = 8700 + random.randrange(200)  # noqa: S311 (a port, not a secret)
        with (Path(tmp) / "daphne.log").open("wb") as log:
            server = subprocess.Popen(
                [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "liverooms.asgi:application"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                time.sleep(3)
                return asyncio.run(storm(port, data, voters, spread))
            finally:
                stop_process(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument("--spread", type=float, default=1.0, help="seconds over which the votes arrive")
    args = parser.parse_args()
    figures = run(args.voters, args.spread)
    print(f"voters                          {figures['voters']}")
    print(f"question.updated per socket     {figures['frames_mean']:.1f} (max {figures['frames_max']})")
    print(f"  over                          {figures['window_s']:.2f} s")
    print(f"  frames per socket per second  {figures['frames_per_socket_per_s']:.1f}")
    print(f"sockets with the exact total    {figures['exact_totals']} of {figures['voters']}")
    baseline = figures["voters"]  # one frame per vote, to every socket
    print(
        f"one-frame-per-vote / coalesced = {baseline / max(figures['frames_mean'], 1e-9):.1f}x fewer frames per socket"
    )


if __name__ == "__main__":
    main()
