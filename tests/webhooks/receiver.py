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
    # What to do with each request, in turn: an HTTP status, "hang" (answer after `hang_for`), or
    # "trickle" (a 200 sent one byte every `trickle_every` seconds, for `trickle_for` in all).
    script: list[int | str] = field(default_factory=list)
    otherwise: int = 204
    hang_for: float = 3.0
    trickle_every: float = 0.2
    trickle_for: float = 6.0
    # What a status answer carries besides its code (a body, a reason phrase of its own).
    body: bytes = b""
    reason: str | None = None
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
            if answer == "trickle":
                self.trickle()
                got.answer = answer
                state.answered.append(answer)
                return
            if answer == "hang":
                time.sleep(state.hang_for)
                status = 204
            else:
                status = int(answer)
            try:
                self.send_response(status, state.reason)
                self.send_header("Content-Length", str(len(state.body)))
                self.end_headers()
                self.wfile.write(state.body)
            except OSError:
                pass  # the sender gave up waiting
            got.answer = answer
            state.answered.append(answer)

        def trickle(self) -> None:
            """A 200 whose status line and headers come one byte at a time, never a long pause."""
            head = b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"a" * 10_000
            until = time.monotonic() + state.trickle_for
            try:
                for byte in head:
                    if time.monotonic() > until:
                        break
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(state.trickle_every)
                self.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass  # the sender gave up
            self.close_connection = True

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
