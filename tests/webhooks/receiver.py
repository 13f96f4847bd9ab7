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
            # Recorded before it is written: the sender may read the status and go on before
            # this thread runs again, and a test then counts what was accepted.
            got.answer = answer
            state.answered.append(answer)
            try:
                self.send_response(status, state.reason)
                self.send_header("Content-Length", str(len(state.body)))
                self.end_headers()
                self.wfile.write(state.body)
            except OSError:
                pass  # the sender gave up waiting

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


@dataclass
class Listener:
    port: int
    server_names: list[str | None] = field(default_factory=list)  # the TLS SNI of each handshake


def _self_signed(directory: str, name: str) -> tuple[str, str]:
    """A certificate for `name` that no one trusts, and its key (PEM files in `directory`)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_path, key_path


@contextmanager
def tls_listener(name: str = "hooks.example.com", *, silent: bool = False) -> Iterator[Listener]:
    """A TLS server on 127.0.0.1 with a self-signed certificate for `name`; it records the SNI
    each client sends. `silent`: it accepts connections and never says a word (no handshake)."""
    import socket
    import ssl
    import tempfile

    server = socket.create_server(("127.0.0.1", 0))
    state = Listener(port=server.getsockname()[1])
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as directory:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*_self_signed(directory, name))

    def on_sni(_sock: ssl.SSLObject, server_name: str | None, _context: ssl.SSLContext) -> None:
        state.server_names.append(server_name)

    context.sni_callback = on_sni  # type: ignore[assignment]
    held: list[socket.socket] = []

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if silent:
                held.append(conn)
                continue
            try:
                conn.settimeout(5)
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass  # the client refused our certificate, as it should
            finally:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()
