"""Reaction totals add up when many processes and threads add at once (nothing lost in a race)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from comments.reactions import add_to_totals, reaction_totals
from tests.faults.services import RedisServer, redis_server
from tests.servers import ROOT

ROOM_ID = 424242
ADDS = 200  # per process (50 at a time, as hubs of many rooms share one loop) or per thread
PROCESSES = 4

ADDER = f"""
import asyncio, django, sys
django.setup()
from comments.reactions import add_to_totals

async def main():
    async def one():
        await add_to_totals(room_id={ROOM_ID}, counts={{"heart": 1, "fire": 2}})
    for _ in range({ADDS} // 50):
        await asyncio.gather(*(one() for _ in range(50)))

asyncio.run(main())
"""
READER = f"""
import django, json
django.setup()
from comments.reactions import reaction_totals
print(json.dumps(reaction_totals(room_id={ROOM_ID})))
"""


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


def run_python(code: str, redis_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "liverooms.settings", "DEBUG": "1", "REDIS_URL": redis_url}
    env.pop("DATABASE_URL", None)  # no database needed
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE)


def test_it_counts_every_reaction_added_by_processes_at_once(redis: RedisServer) -> None:
    adders = [run_python(ADDER, redis.url) for _ in range(PROCESSES)]
    for adder in adders:
        assert adder.wait(timeout=120) == 0
    reader = run_python(READER, redis.url)
    out, _ = reader.communicate(timeout=60)
    totals = json.loads(out)
    assert totals["heart"] == PROCESSES * ADDS
    assert totals["fire"] == PROCESSES * ADDS * 2


def test_it_counts_every_reaction_added_by_threads_at_once() -> None:
    """Each thread has its own event loop (as each daphne process has one), in this process's setup
    (Redis when REDIS_URL is set, else the local cache)."""

    def add() -> None:
        async def many() -> None:
            for _ in range(ADDS // 50):
                await asyncio.gather(*(add_to_totals(room_id=ROOM_ID, counts={"clap": 1}) for _ in range(50)))

        asyncio.run(many())

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reaction_totals(room_id=ROOM_ID)["clap"] == 4 * ADDS
