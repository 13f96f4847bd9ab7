"""A real HTTP receiver for webhook tests: it records every POST and answers from a script."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answer: int | str | None = None  # set once answered

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    # What to do with each request, in turn: an HTTP status, or "hang" (answer after `hang_for`).
    script: list[int | str] = field(default_factory=list)
    otherwise: int = 204
    hang_for: float = 3.0
    received: list[Received] = field(default_factory=list)
    answered: list[int | str] = field(default_factory=list)

    def next_answer(self) -> int | str:
        return self.script.pop(0) if self.script else self.otherwise

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.answered) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    @property
    def accepted(self) -> list[Received]:
        """The requests it answered with a 2xx."""
        return [r for r in self.received if isinstance(r.answer, int) and r.answer < 300]


@contextmanager
def receiver(**kwargs: Any) -> Iterator[Receiver]:
    state: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            got = Received(dict(self.headers.items()), body)
            state.received.append(got)
            answer = state.next_answer()
            if answer == "hang":
                time.sleep(state.hang_for)
                status = 204
            else:
                status = int(answer)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting
            got.answer = answer
            state.answered.append(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks", **kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
