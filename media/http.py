"""HTTP details WHIP and WHEP clients on other origins rely on: CORS, `OPTIONS`, `Link` headers.

A WHEP player or a WHIP web encoder usually runs on another origin than this server. Every media
endpoint therefore answers CORS preflights and marks its responses readable from any origin
(`*` never carries cookies, so a cross-origin request can only authenticate with a bearer token).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from django.http import HttpRequest, HttpResponse

from media.ice import link_headers
from media.relay import session_label

SDP = "application/sdp"

AsyncView = TypeVar("AsyncView", bound=Callable[..., Awaitable[HttpResponse]])

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Location, Link, Accept-Post, Content-Type, Retry-After",
}
PREFLIGHT = {
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Max-Age": "86400",
}


def turn_user(response: HttpResponse) -> str | None:
    """Who a TURN credential is for (coturn logs it): `whip-<label>` / `whep-<label>` for a created
    session (the hash label its logs use, never the id: that is the capability to DELETE it);
    None (random) for an OPTIONS preflight."""
    parts = str(response.get("Location") or "").rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] not in ("whip", "whep") or not parts[-1]:
        return None
    return f"{parts[-2]}-{session_label(parts[-1])}"


def add_ice_links(response: HttpResponse) -> HttpResponse:
    links = link_headers(turn_user(response))
    if links:
        response["Link"] = ", ".join(links)
    return response


def cross_origin(*methods: str, accept_sdp: bool = False) -> Callable[[AsyncView], AsyncView]:
    """Allow `methods` (+ OPTIONS) from any origin; everything else gets 405. `accept_sdp`: the
    resource takes SDP offers, so OPTIONS also says `Accept-Post` and lists the ICE servers."""
    allowed = ", ".join([*methods, "OPTIONS"])

    def decorate(view: AsyncView) -> AsyncView:
        @functools.wraps(view)
        async def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                for name, value in PREFLIGHT.items():
                    response[name] = value
                response["Access-Control-Allow-Methods"] = allowed
                if accept_sdp:
                    response["Accept-Post"] = SDP
                    add_ice_links(response)
            elif request.method in methods:
                response = await view(request, *args, **kwargs)
            else:
                response = HttpResponse(f"Use {allowed}.\n", status=405, content_type="text/plain; charset=utf-8")
            response["Allow"] = allowed
            for name, value in CORS.items():
                response[name] = value
            return response

        return cast(AsyncView, wrapped)

    return decorate
