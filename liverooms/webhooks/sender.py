"""One webhook POST, bounded as a whole and pinned to a checked address (issue #12).

- **One deadline for the whole attempt**: resolving the name, connecting, the TLS handshake,
  sending and reading the status line all share `timeout` seconds. Every socket call gets only
  the time left, so a receiver that trickles bytes cannot hold a worker past it (a timeout per
  socket operation would let one byte every few seconds go on for ever, past the delivery's lease).
- **The address checked is the address connected to**: `addresses.target` resolves once and
  checks; the socket connects to that IP. The URL's host still goes in the Host header and, for
  https, in the TLS SNI and the certificate check.
- **Only the status is read**: the sender stops at the status line (after any 1xx) and keeps a
  short summary of its own making, never the receiver's body or reason text.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from liverooms.webhooks.addresses import Refused, Target, target

MAX_HEAD = 16 * 1024  # bytes of status line and 1xx headers read before giving up
STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-9][0-9][0-9])(?: [^\r\n]*)?")


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    summary: str  # empty for a 2xx; ours, short, never the receiver's body

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left


def status_summary(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST `body` to `url` within `timeout` seconds in all (the look-up included), at an address
    checked by `addresses.target`; never raises for network trouble."""
    deadline = _Deadline(timeout)
    return _answered(lambda: _send(target(url, timeout=timeout), body, headers, deadline), timeout)


def send(where: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST to an already resolved and checked `where`: to its addresses, for its host."""
    deadline = _Deadline(timeout)
    return _answered(lambda: _send(where, body, headers, deadline), timeout)


def _answered(attempt: Callable[[], int], timeout: float) -> Answer:
    try:
        code = attempt()
    except Refused as refused:
        return Answer(None, f"Refused: {refused}")
    except TimeoutError:  # socket.timeout too
        return Answer(None, f"timed out: no answer within {timeout:g} s")
    except ssl.SSLCertVerificationError as error:
        return Answer(None, f"TLS: {error.verify_message or 'certificate not trusted'}")
    except ssl.SSLError as error:
        return Answer(None, f"TLS: {error.reason or type(error).__name__}")
    except (_NotHTTP, ValueError) as error:
        return Answer(None, str(error))
    except OSError as error:
        return Answer(None, f"{type(error).__name__}: {error.strerror or 'network error'}")
    return Answer(code, "" if 200 <= code < 300 else status_summary(code))


def _send(where: Target, body: bytes, headers: dict[str, str], deadline: _Deadline) -> int:
    sock = _connect(where, deadline)
    try:
        sock.settimeout(deadline.left())
        sock.sendall(_request(where, body, headers))
        return _read_status(sock, deadline)
    finally:
        sock.close()


def _connect(where: Target, deadline: _Deadline) -> socket.socket:
    """A connected (and for https, TLS-wrapped) socket to the first of `where`'s checked
    addresses that answers."""
    error: OSError | None = None
    for address in where.addresses:
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(deadline.left())
            sock.connect((str(address), where.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if where.https:
                context = ssl.create_default_context()
                sock.settimeout(deadline.left())  # the handshake as a whole gets what is left
                return context.wrap_socket(sock, server_hostname=where.host)
            return sock
        except (TimeoutError, ssl.SSLError):
            sock.close()
            raise
        except OSError as failed:
            sock.close()
            error = failed
    assert error is not None  # noqa: S101 (target() never returns no addresses)
    raise error


def _request(where: Target, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {where.path} HTTP/1.1", f"Host: {where.host_header}"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"header {name!r} has a line break")
        lines.append(f"{name}: {value}")
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


class _NotHTTP(Exception):
    pass


def _read_status(sock: socket.socket, deadline: _Deadline) -> int:
    """The final status code: the first status line that is not 1xx (whose headers are skipped)."""
    buffer = b""
    while True:
        line_end = buffer.find(b"\r\n")
        if line_end >= 0:
            match = STATUS_LINE.fullmatch(buffer[:line_end])
            if match is None:
                raise _NotHTTP("Not an HTTP answer.")
            code = int(match.group(1))
            if code >= 200:
                return code
            head_end = buffer.find(b"\r\n\r\n")
            if head_end >= 0:
                buffer = buffer[head_end + 4 :]  # an informational answer: the real one follows
                continue
        if len(buffer) > MAX_HEAD:
            raise _NotHTTP("The answer's head was too long.")
        sock.settimeout(deadline.left())
        chunk = sock.recv(4096)
        if not chunk:
            raise _NotHTTP("The connection closed before an HTTP status.")
        buffer += chunk
