"""Who is asking: the client address that per-address limits count against.

The address is `REMOTE_ADDR`, the peer of the TCP connection, which nobody can choose. Behind a
reverse proxy (`BEHIND_PROXY` on) that peer is the proxy, and the client's address is the
rightmost `X-Forwarded-For` entry that is not one of our own proxies (`TRUSTED_PROXIES`): every
entry left of it was written by the client and proves nothing.

An IPv6 client usually holds a whole /64, so IPv6 addresses count per /64.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def behind_proxy() -> bool:
    """`BEHIND_PROXY`: a reverse proxy connects, and says who its client is."""
    return bool(settings.BEHIND_PROXY)


@cache
def _trusted_networks(spec: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in spec)
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error} (use addresses or networks: 10.0.0.0/8)") from None


def trusted_proxies() -> tuple[IPNetwork, ...]:
    """`TRUSTED_PROXIES`: addresses or networks of proxies in front of the one that connects."""
    return _trusted_networks(tuple(settings.TRUSTED_PROXIES))


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it (`203.0.113.7`, `203.0.113.7:5000`, `[2001:db8::1]:443`),
    or None if it is not one."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(request: HttpRequest) -> IPAddress | None:
    """The client's address (None when the server has none, e.g. over a Unix socket)."""
    return _address_from(request.META.get("REMOTE_ADDR") or "", request.META.get("HTTP_X_FORWARDED_FOR") or "")


def scope_address(scope: Mapping[str, Any]) -> IPAddress | None:
    """`client_address` of an ASGI connection (a websocket): its peer, or the forwarded client."""
    peer = scope.get("client") or ("", 0)
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
    return _address_from(str(peer[0]), forwarded)


def _address_from(remote: str, forwarded_for: str) -> IPAddress | None:
    peer = parse_address(remote)
    if not behind_proxy():
        return peer
    trusted = trusted_proxies()
    for hop in reversed(forwarded_for.split(",")):
        address = parse_address(hop)
        if address is None:
            break  # our proxy wrote nothing usable here: count against the proxy
        if not any(address in network for network in trusted):
            return address
    return peer


def client_key(request: HttpRequest) -> str:
    """`client_address` as a rate-limit key: the address, or its /64 for IPv6."""
    return address_key(client_address(request))


def scope_key(scope: Mapping[str, Any]) -> str:
    """`client_key` of an ASGI connection."""
    return address_key(scope_address(scope))


def address_key(address: IPAddress | None) -> str:
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)
