"""ICE servers from settings: what the relay's peer connections use and what clients are told.

WHIP (RFC 9725 §4.6) and WHEP announce them in `Link` headers, one per URL:
`<stun:stun.example.net>; rel="ice-server"`, plus `username`, `credential` and
`credential-type="password"` for TURN.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from media.relay import IceServerSpec

SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


def _is_turn(url: str) -> bool:
    return url.startswith(("turn:", "turns:"))


def check_settings() -> None:
    """Refuse a misconfigured MEDIA_ICE_SERVERS at start-up rather than at the first offer."""
    for url in settings.MEDIA_ICE_SERVERS:
        if not url.startswith(SCHEMES) or any(c in url for c in '<>" ;'):
            raise ImproperlyConfigured(f"MEDIA_ICE_SERVERS: {url!r} is not a stun:, stuns:, turn: or turns: URL")
        if _is_turn(url) and not (settings.MEDIA_TURN_USERNAME and settings.MEDIA_TURN_CREDENTIAL):
            raise ImproperlyConfigured(
                f"MEDIA_ICE_SERVERS: {url!r} needs MEDIA_TURN_USERNAME and MEDIA_TURN_CREDENTIAL"
            )


def ice_servers() -> list[IceServerSpec]:
    """The relay's ICE servers (RTCIceServer-shaped dicts)."""
    servers: list[IceServerSpec] = []
    for url in settings.MEDIA_ICE_SERVERS:
        if _is_turn(url):
            servers.append(
                {"urls": url, "username": settings.MEDIA_TURN_USERNAME, "credential": settings.MEDIA_TURN_CREDENTIAL}
            )
        else:
            servers.append({"urls": url})
    return servers


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def link_headers() -> list[str]:
    """One `Link` header value per configured ICE server URL."""
    links = []
    for url in settings.MEDIA_ICE_SERVERS:
        link = f'<{url}>; rel="ice-server"'
        if _is_turn(url):
            link += (
                f"; username={_quoted(settings.MEDIA_TURN_USERNAME)}"
                f"; credential={_quoted(settings.MEDIA_TURN_CREDENTIAL)}"
                '; credential-type="password"'
            )
        links.append(link)
    return links
