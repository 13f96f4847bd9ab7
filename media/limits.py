"""What a WHIP/WHEP client may cost the server: offers per address, peers per address, room and
process, unconnected peers, ICE candidates per offer; and which client address they count against.

Every figure is a setting (`liverooms/settings.py` reads the environment variable of the same
name); until settings.py defines one, it is read from the environment here, through the same
typed readers (`liverooms.env`), so a bad value names its variable. Read per request: tests and
operators change them without restarting the relay.

Loopback clients (this machine: `make run`, the benchmarks, a local proxy not declared with
BEHIND_PROXY) are not limited per address; the room and process caps still apply to them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.http import HttpRequest

from liverooms import clients
from media.relay import PeerLimits

T = TypeVar("T")


@dataclass(frozen=True)
class MediaLimits:
    offer_burst: int  # WHIP or WHEP offers one address may make at once ...
    offers_per_minute: int  # ... and then steadily (a token bucket per address and kind)
    peers: PeerLimits
    max_candidates: int  # distinct ICE candidates of an offer the relay tries
    allow_private_candidates: bool  # try loopback/private candidates from any client

    @property
    def connect_timeout(self) -> float:
        return self.peers.reap_after()


def media_limits() -> MediaLimits:
    return MediaLimits(
        offer_burst=settings.MEDIA_OFFER_BURST,
        offers_per_minute=settings.MEDIA_OFFERS_PER_MINUTE,
        peers=PeerLimits(
            per_address=settings.MEDIA_PEERS_PER_ADDRESS,
            per_room=settings.MEDIA_PEERS_PER_ROOM,
            per_process=settings.MEDIA_MAX_PEERS,
            pending=settings.MEDIA_MAX_PENDING_PEERS,
            connect_timeout=settings.MEDIA_CONNECT_TIMEOUT,
        ),
        max_candidates=settings.MEDIA_MAX_ICE_CANDIDATES,
        allow_private_candidates=settings.MEDIA_ALLOW_PRIVATE_CANDIDATES,
    )


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(request: HttpRequest, limits: MediaLimits) -> str | None:
    """The client's address (liverooms.clients: the socket's peer, or behind BEHIND_PROXY the
    forwarded client). Per-address limits count an IPv6 client by its /64 (`limited_address`)."""
    address = clients.client_address(request)
    return str(address) if address is not None else None


def is_loopback(client: str | None) -> bool:
    address = _ip(client or "")
    return address is not None and address.is_loopback


def limited_address(client: str | None) -> str | None:
    """The address per-address limits count against (an IPv6 client's /64), or None (unknown,
    or this machine)."""
    if client is None or is_loopback(client):
        return None
    return clients.address_key(_ip(client))


def candidate_filter(client: str | None, limits: MediaLimits) -> Callable[[str], bool]:
    """Which ICE candidate addresses of this client's offer the relay may send checks to.

    A client from a public address gets checks only to public unicast addresses: a candidate
    naming a loopback, private, link-local or multicast address (or a host name: mDNS `.local`,
    or a name that might resolve to one) would have the relay probe this machine or its network
    on the client's say-so, and could never be the client's real address anyway. Nothing is lost
    by ignoring them: the relay learns the client's address from the client's own checks. A client
    on loopback (`make run`, tests) may offer anything; a client on a private network (a LAN
    demo) anything but loopback. MEDIA_ALLOW_PRIVATE_CANDIDATES lifts the rule for every client.
    """
    address = _ip(client or "")
    if limits.allow_private_candidates or (address is not None and address.is_loopback):
        return lambda candidate: True
    local_client = address is not None and not address.is_global

    def keep(candidate: str) -> bool:
        ip = _ip(candidate)
        if ip is None:
            return local_client  # a host name (mDNS): only resolvable, and meaningful, nearby
        if ip.is_loopback or ip.is_unspecified or ip.is_multicast:
            return False
        return local_client or ip.is_global

    return keep
