"""Reference server for bench/fanout.py: a plain `websockets` broadcast server, about the cheapest
fan-out pure Python does (no Django, no Channels, no database).

`python bench/broadcast_app.py --port P` serves `ws://127.0.0.1:P/<any path>`. It writes the same
frames as liverooms: a `room.state` on connect; a posted comment gets an id and goes to every open
socket with one `websockets.broadcast` (serialised once); reactions are counted and broadcast as
one `reactions` frame every 200 ms; the poster gets an `ack`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
from collections import Counter

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

TICK = 0.2

connections: set[ServerConnection] = set()
tally: Counter[str] = Counter()
ids = itertools.count(1)


def to_text(frame: dict[str, object]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


async def handler(ws: ServerConnection) -> None:
    await ws.send(to_text({"type": "room.state", "seq": 0, "room": {"slug": ws.request.path if ws.request else ""}}))
    connections.add(ws)
    try:
        async for raw in ws:
            try:
                frame = json.loads(raw)
                kind = frame["type"]
            except (ValueError, KeyError, TypeError):
                await ws.send(to_text({"type": "error", "code": "bad_request", "ref": None}))
                continue
            if kind == "reaction.send":
                tally[str(frame.get("kind"))] += 1
            elif kind == "comment.post":
                comment_id = next(ids)
                comment = {"id": comment_id, "user": None, "text": str(frame.get("text", ""))}
                broadcast(connections, to_text({"type": "comment.created", "seq": comment_id, "comment": comment}))
                await ws.send(to_text({"type": "ack", "ref": frame.get("ref"), "comment_id": comment_id}))
            else:
                await ws.send(to_text({"type": "error", "code": "bad_request", "ref": frame.get("ref")}))
    except ConnectionClosed:
        pass
    finally:
        connections.discard(ws)


async def flush_reactions() -> None:
    global tally
    while True:
        await asyncio.sleep(TICK)
        if tally:
            counts, tally = dict(tally), Counter()
            broadcast(connections, to_text({"type": "reactions", "counts": counts}))


async def main(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with serve(handler, "127.0.0.1", port, compression=None, max_size=64 * 1024, ping_interval=20):
        ticker = asyncio.create_task(flush_reactions())
        await stop
        ticker.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
