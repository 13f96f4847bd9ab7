"""ICE servers from settings: what the relay's peer connections use and what clients are told.

WHIP (RFC 9725 §4.6) and WHEP announce them in `Link` headers, one per URL:
`<stun:stun.example.net>; rel="ice-server"`, plus `username`, `credential` and
`credential-type="password"` for TURN. Two kinds of TURN:

- `turn:` URLs in MEDIA_ICE_SERVERS with the long-term MEDIA_TURN_USERNAME/CREDENTIAL, the same
  for everyone (a TURN service of your own choosing);
- TURN_URLS with TURN_SECRET (coturn `use-auth-secret`): every response gets a fresh credential
  that expires TURN_CREDENTIAL_TTL seconds later (`media.turn`).

The relay's own peers use MEDIA_ICE_SERVERS only, never TURN_URLS: the relay runs where clients
can reach it (a public address, or STUN for a 1:1 NAT), a client behind NAT brings the TURN
relay candidate, and a TURN allocation per relay peer would cost coturn a relayed port per viewer
and delay every answer for nothing (docs/deploy.md, "TURN (coturn)").
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from media.relay import IceServerSpec
from media.turn import credential_for

SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


def _is_turn(url: str) -> bool:
    return url.startswith(("turn:", "turns:"))


def _is_url(url: str) -> bool:
    return url.startswith(SCHEMES) and not any(c in url for c in '<>" ;,')


def check_settings() -> None:
    """Refuse misconfigured ICE settings at start-up rather than at the first offer."""
    for url in settings.MEDIA_ICE_SERVERS:
        if not _is_url(url):
            raise ImproperlyConfigured(f"MEDIA_ICE_SERVERS: {url!r} is not a stun:, stuns:, turn: or turns: URL")
        if _is_turn(url) and not (settings.MEDIA_TURN_USERNAME and settings.MEDIA_TURN_CREDENTIAL):
            raise ImproperlyConfigured(
                f"MEDIA_ICE_SERVERS: {url!r} needs MEDIA_TURN_USERNAME and MEDIA_TURN_CREDENTIAL"
            )
    for url in settings.TURN_URLS:
        if not (_is_url(url) and _is_turn(url)):
            raise ImproperlyConfigured(f"TURN_URLS: {url!r} is not a turn: or turns: URL")
    if settings.TURN_URLS and not settings.TURN_SECRET:
        raise ImproperlyConfigured("TURN_URLS needs TURN_SECRET (coturn's static-auth-secret)")


def _configured() -> list[dict[str, str]]:
    servers = []
    for url in settings.MEDIA_ICE_SERVERS:
        if _is_turn(url):
            servers.append(
                {"urls": url, "username": settings.MEDIA_TURN_USERNAME, "credential": settings.MEDIA_TURN_CREDENTIAL}
            )
        else:
            servers.append({"urls": url})
    return servers


def ice_servers() -> list[IceServerSpec]:
    """The relay's ICE servers (RTCIceServer-shaped dicts): MEDIA_ICE_SERVERS, never TURN_URLS."""
    return list(_configured())


def client_ice_servers(who: str | None = None) -> list[dict[str, str]]:
    """What a WHIP/WHEP client is told to use: MEDIA_ICE_SERVERS, then TURN_URLS with one fresh
    time-limited credential for `who` (a label, never a secret; random when None)."""
    servers = _configured()
    if settings.TURN_URLS:
        turn = credential_for(secret=settings.TURN_SECRET, ttl=settings.TURN_CREDENTIAL_TTL, who=who)
        for url in settings.TURN_URLS:
            servers.append({"urls": url, "username": turn.username, "credential": turn.credential})
    return servers


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def link_headers(who: str | None = None) -> list[str]:
    """One `Link` header value per ICE server URL the client may use (client_ice_servers)."""
    links = []
    for server in client_ice_servers(who):
        link = f'<{server["urls"]}>; rel="ice-server"'
        if "username" in server:
            link += (
                f"; username={_quoted(server['username'])}"
                f"; credential={_quoted(server['credential'])}"
                '; credential-type="password"'
            )
        links.append(link)
    return links
