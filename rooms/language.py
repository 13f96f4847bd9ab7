"""The language a room socket speaks: the page's, chosen as Django's LocaleMiddleware chooses it
for pages (the language cookie the header's switcher sets, else the browser's Accept-Language),
which does not run for websockets. The consumer handles every frame inside
`translation.override(socket_language(scope))`, so `error` messages come in the socket user's
language; machine-readable `code`s never change."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header


def socket_language(scope: dict[str, Any]) -> str:
    """A supported language code for this websocket's scope (settings.LANGUAGE_CODE when none fits)."""
    headers = {name.lower(): value for name, value in scope.get("headers", [])}
    cookies = scope.get("cookies")
    if cookies is None:  # without Channels' CookieMiddleware: read the header
        jar: SimpleCookie = SimpleCookie()
        jar.load(headers.get(b"cookie", b"").decode("latin-1"))
        cookies = {name: morsel.value for name, morsel in jar.items()}
    chosen = cookies.get(settings.LANGUAGE_COOKIE_NAME)
    candidates = [chosen] if chosen else []
    accept = headers.get(b"accept-language", b"").decode("latin-1")[:1000]
    candidates += [code for code, _quality in parse_accept_lang_header(accept) if code != "*"]
    for code in candidates:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
