"""The replay page (`/rooms/<slug>/replay/`) and its timeline (`…/replay/timeline`): thin views
over rooms.replay. The page embeds the timeline; rooms/static/rooms/replay.js plays it and polls
the timeline with `If-None-Match`, so a comment removed meanwhile leaves the page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from liverooms.clients import client_key
from liverooms.ratelimit import retry_after, token_wait
from rooms.models import Room
from rooms.replay import ReplayRefused, host_downloads, replay_access, timeline, timeline_etag

# What a refused page answers: its status, and the page's message (templates/rooms/replay.html).
REFUSED_STATUS = {"missing": 404, "not_ready": 404, "private": 403}


def _room(slug: str) -> Room:
    return get_object_or_404(Room.objects.select_related("host"), slug=slug)


@require_GET
def replay_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The replay of an ended live; a live one sends you to the live itself."""
    room = _room(slug)
    try:
        watch = replay_access(room=room, user=request.user)
    except ReplayRefused as refused:
        if refused.reason == "live":
            return redirect("rooms:detail", slug=room.slug)
        context: dict[str, object] = {"room": room, "refused": refused.reason}
        response = render(request, "rooms/replay.html", context, status=REFUSED_STATUS[refused.reason])
        if refused.reason == "not_ready":
            response["Retry-After"] = "5"
        return response
    context = {
        "room": room,
        "timeline": timeline(room=room, replay=watch.replay),
        "etag": timeline_etag(room=room, replay=watch.replay),
        "is_host": watch.is_host,
        "replay": watch.replay,
        "downloads": host_downloads(replay=watch.replay) if watch.is_host else None,
    }
    response = render(request, "rooms/replay.html", context)
    patch_cache_control(response, private=True, no_cache=True)
    return response


@require_GET
def replay_timeline(request: HttpRequest, slug: str) -> HttpResponse:
    """The timeline as JSON, with an ETag: `304` while nothing changed. Polled by open pages,
    so it takes a token of the client address's bucket (`REPLAY_TIMELINE_BURST`,
    `REPLAY_TIMELINE_PER_MINUTE`); past it, `429` + `Retry-After`."""
    wait = token_wait(
        f"replay-timeline:{client_key(request)}",
        capacity=settings.REPLAY_TIMELINE_BURST,
        per_second=settings.REPLAY_TIMELINE_PER_MINUTE / 60,
    )
    if wait:
        seconds = retry_after(wait)
        refusal = JsonResponse(
            {"code": "rate_limited", "message": "Slow down a little.", "retry_after": seconds}, status=429
        )
        refusal["Retry-After"] = str(seconds)
        return refusal
    room = _room(slug)
    try:
        watch = replay_access(room=room, user=request.user)
    except ReplayRefused as refused:
        status = 409 if refused.reason == "live" else REFUSED_STATUS[refused.reason]
        return JsonResponse({"code": refused.reason, "message": _REFUSED_MESSAGES[refused.reason]}, status=status)
    etag = timeline_etag(room=room, replay=watch.replay)
    response: HttpResponse
    if etag in _etags(request.headers.get("If-None-Match", "")):
        response = HttpResponse(status=304)
    else:
        response = JsonResponse(timeline(room=room, replay=watch.replay), json_dumps_params={"ensure_ascii": False})
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return response


_REFUSED_MESSAGES = {
    "live": "This live has not ended yet.",
    "missing": "There is no replay of this live.",
    "not_ready": "The replay is not ready yet; try again in a moment.",
    "private": "The host made this replay private.",
}


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
