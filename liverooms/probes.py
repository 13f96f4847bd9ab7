"""What a balancer and Prometheus ask each process: `/healthz` and `/metrics`.

- `/healthz`: `200 ok` when the database and the channel layer answer (within 2 s), else `503`
  naming what failed. No auth, no session, no host check (a balancer asks by address); the answer
  is kept for a second, so polling it hard costs one query and one PING a second.
- `/metrics`: Prometheus text (liverooms.metrics), for clients on loopback or a private network
  (the address per liverooms.clients: behind the proxy, the one it forwarded) or with
  `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets 403.

`ProbesMiddleware` answers both before any other middleware (so neither ALLOWED_HOSTS nor the
HTTPS redirect stands between a balancer and its health check); the URLconf names them too.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import async_to_sync, iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from liverooms import metrics, process
from liverooms.clients import client_address
from liverooms.process import PerLoop

HEALTH_TIMEOUT = 2.0  # seconds each dependency has to answer
HEALTH_CACHE = 1.0  # seconds one answer serves
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_health: PerLoop[tuple[float, int, str]] = PerLoop(lambda: (float("-inf"), 0, ""))  # (when, status, text)


async def healthz(request: HttpRequest) -> HttpResponse:
    now = time.monotonic()
    cached = _health.get()
    if now - cached[0] > HEALTH_CACHE:
        failed = [name for name, ok in zip(("database", "channel layer"), await _check_all(), strict=True) if not ok]
        cached = (now, 503 if failed else 200, f"unavailable: {', '.join(failed)}" if failed else "ok")
        _health.set(cached)
    response = HttpResponse(cached[2] + "\n", status=cached[1], content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


async def _check_all() -> list[bool]:
    return list(await asyncio.gather(_answers(_database()), _answers(_channel_layer())))


async def _answers(check: Awaitable[object]) -> bool:
    try:
        await asyncio.wait_for(check, timeout=HEALTH_TIMEOUT)
    except Exception:
        return False
    return True


async def _database() -> None:
    from django.db import connection

    from liverooms.db import db_async

    def select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    await db_async(select_one)()


async def _channel_layer() -> None:
    """A PING to the layer's Redis (the in-memory layer is in this process: it always answers)."""
    if not settings.REDIS_URL:
        return
    await process.redis().ping()  # type: ignore[misc]  # redis-py types sync and async as one; _answers times it


def may_read_metrics(request: HttpRequest) -> bool:
    """Loopback and private-network clients may; others with the bearer token."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    address = client_address(request)
    return address is not None and (address.is_loopback or address.is_private)


async def metrics_view(request: HttpRequest) -> HttpResponse:
    if not may_read_metrics(request):
        response = HttpResponse("forbidden: metrics are for the private network or a METRICS_TOKEN\n", status=403)
        response["Content-Type"] = "text/plain; charset=utf-8"
        return response
    body = metrics.text(await metrics.snapshot())
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


PROBES: dict[str, Callable[[HttpRequest], Awaitable[HttpResponse]]] = {
    "/healthz": healthz,
    "/metrics": metrics_view,
}


class ProbesMiddleware:
    """Answers `/healthz` and `/metrics` (GET/HEAD) itself, ahead of every other middleware."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        probe = PROBES.get(request.path_info) if request.method in ("GET", "HEAD") else None
        if self.is_async:
            return self._acall(request, probe)
        if probe is not None:
            return async_to_sync(probe)(request)
        return self.get_response(request)

    async def _acall(self, request: HttpRequest, probe: Callable[[HttpRequest], Awaitable[HttpResponse]] | None) -> Any:
        if probe is not None:
            return await probe(request)
        return await self.get_response(request)
