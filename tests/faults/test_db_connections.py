"""Socket actions reuse database connections instead of opening one each.

Counted by PostgreSQL itself (`pg_stat_database.sessions`: connections established to the
database), around 1,000 actions on one real daphne process.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from channels.db import database_sync_to_async
from django.db import connection

from rooms.models import Room
from tests.servers import daphne
from tests.sockets import session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL sessions: needs PostgreSQL"),
]

ACTIONS = 1000


def sessions_opened(database: str) -> int:
    """Connections ever established to `database` (PostgreSQL flushes these counts within a second)."""
    time.sleep(1.5)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [database])
            return int(cursor.fetchone()[0])
    finally:
        connection.close()  # this thread's own connection (not a db_async call): back to the pool


async def test_it_opens_few_connections_for_many_socket_actions(room: Room, alice) -> None:
    database = connection.settings_dict["NAME"]
    cookie = await database_sync_to_async(session_cookie)(alice)
    # The host posts as fast as acks come: its comment, action and frame buckets are raised.
    limits = {"COMMENT_HOST_BURST": "100000", "STAGE_ACTION_BURST": "100000", "SOCKET_FRAME_BURST": "100000"}
    with daphne(connection.settings_dict, **limits) as served:
        socket = await websockets.connect(
            f"ws://127.0.0.1:{served.port}/ws/rooms/{room.slug}/",
            origin=f"http://127.0.0.1:{served.port}",
            additional_headers={"Cookie": f"sessionid={cookie}"},
        )
        try:
            before = await asyncio.to_thread(sessions_opened, database)
            started = time.monotonic()
            for n in range(ACTIONS):
                await socket.send(json.dumps({"type": "comment.post", "text": f"comment {n}", "ref": str(n)}))
                while (answer := json.loads(await socket.recv()))["type"] not in {"ack", "error"}:
                    pass
                assert answer["type"] == "ack", answer
            took = time.monotonic() - started
            opened = await asyncio.to_thread(sessions_opened, database) - before
        finally:
            await socket.close()
    print(f"{opened} connections opened for {ACTIONS} socket actions ({took / ACTIONS * 1000:.1f} ms each)")
    assert opened <= 50
