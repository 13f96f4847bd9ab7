"""Where webhooks may go: public addresses only (issue #12).

An endpoint's URL is checked when it is saved (its host resolved), and again on every attempt
at the very address the attempt connects to: `target` resolves the host once and the sender
connects to those addresses, never to the name, so a DNS answer that changes between the check
and the connection (DNS rebinding) cannot point a delivery at the server's own network.

Refused: loopback, private, link-local, multicast, unspecified, reserved and shared (CGNAT)
addresses, cloud metadata addresses, and IPv6 forms that embed one of them. The setting
`WEBHOOK_ALLOW_PRIVATE` lifts the rule (a test receiver on 127.0.0.1, an internal deployment).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Metadata services that answer on addresses the general rules below do not all catch.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack…
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure's wire server
        "192.0.0.192",  # Oracle Cloud
    )
)
IETF_PROTOCOL = ipaddress.ip_network("192.0.0.0/24")  # special-purpose; Python counts parts of it global
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """Webhooks may not go to this URL; the message says why, for the operator."""


def allow_private() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE)


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: Address) -> str | None:
    """Why webhooks may not go to `address` ("a loopback address", …), or None for a public one."""
    inner = embedded_ipv4(address)
    if inner is not None:
        why = refusal(inner)
        return f"{why} in IPv6 form" if why else None
    if address in METADATA:
        return "a cloud metadata address"
    checks = [
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (isinstance(address, ipaddress.IPv4Address) and address in IETF_PROTOCOL, "a reserved address"),
        (not address.is_global, "not a public address"),
    ]
    return next((why for refused, why in checks if refused), None)


_resolver: ThreadPoolExecutor | None = None
_resolver_lock = threading.Lock()


def _lookup(host: str, port: int) -> list[Address]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    unique: dict[Address, None] = {}
    for _family, _type, _proto, _name, sockaddr in found:
        unique[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    return list(unique)


def resolve(host: str, port: int, *, timeout: float) -> list[Address]:
    """The addresses of `host` (an address literal is its own), within `timeout` seconds: the
    system resolver has no deadline of its own, so it runs on a small pool and is waited for."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    global _resolver
    with _resolver_lock:
        if _resolver is None:
            _resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")
    future: Future[list[Address]] = _resolver.submit(_lookup, host, port)
    try:
        return future.result(timeout=max(timeout, 0.001))
    except FutureTimeout:
        raise Refused(f"{host} was not resolved within {timeout:g} s.") from None
    except (OSError, UnicodeError, ValueError) as error:
        raise Refused(f"{host} could not be resolved ({type(error).__name__}).") from None


@dataclass(frozen=True)
class Target:
    """Where one attempt goes: the name it is for (Host header, TLS SNI and certificate) and
    the addresses it may connect to (already checked)."""

    https: bool
    host: str  # without brackets
    port: int
    path: str  # with its query, percent-encoded
    addresses: list[Address]

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == (443 if self.https else 80) else f"{name}:{self.port}"


def parse(url: str) -> tuple[bool, str, int, str]:
    """(https, host, port, path) of an http(s) URL; Refused if it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise Refused("Use an http:// or https:// URL.")
    host = parts.hostname
    if not host:
        raise Refused("The URL has no host.")
    try:
        port = parts.port
    except ValueError:
        raise Refused("The URL's port is not a number from 0 to 65535.") from None
    https = parts.scheme == "https"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    try:  # the Host header and the look-up use the ASCII (IDNA) form of an international name
        host = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused("The URL's host is not a valid name.") from None
    return https, host, port or (443 if https else 80), path


def target(url: str, *, timeout: float) -> Target:
    """Parse and resolve `url`, and check every address it resolves to (unless
    WEBHOOK_ALLOW_PRIVATE); Refused if webhooks may not go there."""
    https, host, port, path = parse(url)
    found = resolve(host, port, timeout=timeout)
    if not found:
        raise Refused(f"{host} has no address.")
    if not allow_private():
        for address in found:
            why = refusal(address)
            if why is not None:
                named = f"{host} is" if host == str(address) else f"{host} resolves to {address},"
                raise Refused(f"{named} {why}: webhooks go to public addresses only.")
    return Target(https=https, host=host, port=port, path=path, addresses=found)


def check_url(url: str, *, timeout: float = 5.0) -> None:
    """For saving an endpoint: Refused unless `url` is http(s) and (unless WEBHOOK_ALLOW_PRIVATE)
    every address its host resolves to now is public. Connecting checks again."""
    if allow_private():
        parse(url)  # no look-up: private addresses are fine, and tests resolve no names
        return
    target(url, timeout=timeout)
