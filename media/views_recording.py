"""HTTP side of recording and replays: thin views over media.recording.actions and media.replays.

- `POST /rooms/<slug>/recording` {"enabled": bool}: the host turns recording off/on (JSON).
- `POST /rooms/<slug>/replay/private` {"private": bool}: the host hides the replay (JSON).
- `POST /rooms/<slug>/replay/delete`: the host deletes the replay now.
- `GET /rooms/<slug>/replay/tracks/<id>.<webm|mp4>`: one recorded file, with Range (a <video>
  seeks); `?download=1` as an attachment (the host's download of the original).
- `GET /rooms/<slug>/replay/composed.mp4`: the 4-up MP4, host only, once composed.

Reading a file is limited per client address (REPLAY_REQUESTS_BURST / _PER_MINUTE; 429 with
Retry-After), as every other resource a stranger can take.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from liverooms.clients import address_key, client_address
from liverooms.errors import ActionError
from liverooms.ratelimit import retry_after, token_wait
from media.models import Recording, Replay
from media.recording import actions
from media.replays import may_manage, may_watch, replay_for
from rooms.models import Room

STATUS = {"unauthenticated": 401, "forbidden": 403, "room_ended": 409, "not_found": 404, "bad_request": 400}
CHUNK = 256 * 1024
CONTENT_TYPES = {"webm": "video/webm", "mp4": "video/mp4"}


def _error(code: str, message: str, status: int | None = None) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status or STATUS.get(code, 400))


def _refused(error: ActionError) -> JsonResponse:
    return _error(error.code, error.message)


def _json_field(request: HttpRequest, name: str) -> Any:
    """`name` from a JSON body, or from a form post ("1"/"0", "true"/"false")."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise ActionError("bad_request", "The body is not JSON.") from None
        if not isinstance(body, dict) or name not in body:
            raise ActionError("bad_request", f"Send {{{name!r}: true|false}}.")
        return body[name]
    raw = request.POST.get(name)
    if raw is None:
        raise ActionError("bad_request", f"Send {name}=true|false.")
    return {"1": True, "true": True, "on": True, "0": False, "false": False, "off": False}.get(raw.lower(), raw)


@require_POST
def set_recording(request: HttpRequest, slug: str) -> HttpResponse:
    room = get_object_or_404(Room, slug=slug)
    try:
        replay = actions.set_recording(room=room, user=request.user, enabled=_json_field(request, "enabled"))
    except ActionError as error:
        return _refused(error)
    return JsonResponse({"enabled": replay.enabled})


@require_POST
def set_private(request: HttpRequest, slug: str) -> HttpResponse:
    room = get_object_or_404(Room, slug=slug)
    replay = replay_for(room)
    if replay is None:
        return _error("not_found", "This live has no replay.")
    try:
        actions.set_private(replay=replay, user=request.user, private=_json_field(request, "private"))
    except ActionError as error:
        return _refused(error)
    return JsonResponse({"private": replay.private})


@require_POST
def delete(request: HttpRequest, slug: str) -> HttpResponse:
    room = get_object_or_404(Room, slug=slug)
    replay = replay_for(room)
    if replay is None or replay.deleted_at is not None:
        return _error("not_found", "This live has no replay (or it was deleted).")
    try:
        actions.delete_as_host(replay=replay, user=request.user)
    except ActionError as error:
        return _refused(error)
    return JsonResponse({"deleted": True})


def _too_many(request: HttpRequest) -> HttpResponse | None:
    address = client_address(request)
    if address is None or address.is_loopback:
        return None
    wait = token_wait(
        f"replay:{address_key(address)}",
        capacity=settings.REPLAY_REQUESTS_BURST,
        per_second=settings.REPLAY_REQUESTS_PER_MINUTE / 60,
    )
    if not wait:
        return None
    response = HttpResponse("Too many replay requests from your address; try again later.\n", status=429)
    response["Retry-After"] = str(retry_after(wait))
    return response


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _chunks(name: str, start: int, length: int) -> Iterator[bytes]:
    with default_storage.open(name, "rb") as handle:
        handle.seek(start)
        left = length
        while left > 0:
            data = handle.read(min(CHUNK, left))
            if not data:
                return
            left -= len(data)
            yield data


def _unsatisfiable(size: int) -> HttpResponse:
    response = HttpResponse(status=416)
    response["Content-Range"] = f"bytes */{size}"
    return response


def serve_file(
    request: HttpRequest, name: str, content_type: str, *, attachment: str | None = None
) -> HttpResponseBase:
    """The stored file `name`, whole or the one byte range asked for (206; 416 past its end)."""
    size = default_storage.size(name)
    start, end = 0, size - 1
    status = 200
    header = request.headers.get("Range", "")
    if header:
        match = _RANGE.match(header.strip())
        if match is None or (not match[1] and not match[2]):
            return _unsatisfiable(size)
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
        else:  # the last N bytes
            start = max(0, size - int(match[2]))
        if start >= size or start > end:
            return _unsatisfiable(size)
        status = 206
    length = end - start + 1
    response = StreamingHttpResponse(_chunks(name, start, length), status=status, content_type=content_type)
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    if attachment:
        response["Content-Disposition"] = f'attachment; filename="{attachment}"'
    return response


@require_GET
def track(request: HttpRequest, slug: str, pk: int, ext: str) -> HttpResponseBase:
    if (refused := _too_many(request)) is not None:
        return refused
    recording = get_object_or_404(
        Recording.objects.select_related("replay__room"), pk=pk, replay__room__slug=slug, container=ext
    )
    replay = recording.replay
    download = request.GET.get("download") == "1"
    if recording.is_open or not (may_manage(replay, request.user) if download else may_watch(replay, request.user)):
        return HttpResponse("No such replay file.\n", status=404, content_type="text/plain")
    filename = f"{slug}-seat{recording.seat_index}-{recording.pk}.{recording.container}" if download else None
    return serve_file(request, recording.file.name, CONTENT_TYPES[recording.container], attachment=filename)


@require_GET
def composed(request: HttpRequest, slug: str) -> HttpResponseBase:
    room = get_object_or_404(Room, slug=slug)
    replay = replay_for(room)
    if replay is None or replay.deleted_at is not None or not may_manage(replay, request.user):
        return HttpResponse("No such replay.\n", status=404, content_type="text/plain")
    if replay.composed_status != Replay.Composed.READY or not replay.composed:
        return JsonResponse({"status": replay.composed_status or "pending"}, status=409)
    return serve_file(request, replay.composed.name, "video/mp4", attachment=f"{slug}-replay.mp4")
