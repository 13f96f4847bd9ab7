"""WHIP (publish) and WHEP (watch) over HTTP: RFC 9725's shape, our rules of who may do what.

`POST` an `application/sdp` offer, get `201 Created`, a `Location` for the session and the SDP
answer; `DELETE` that location to stop. Views only check the request and call the relay.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from liverooms.aio import detached
from liverooms.db import db_async
from liverooms.errors import ActionError
from liverooms.ratelimit import retry_after, token_wait
from media import audio_only, edge, origin, services
from media.http import SDP, add_ice_links, cross_origin
from media.limits import MediaLimits, candidate_filter, client_address, limited_address, media_limits
from media.relay import BadOffer, RelayClosed, SeatBusy, TooManyPeers
from media.sdp import screen_candidates
from rooms import seats
from rooms.models import Room, Seat

logger = logging.getLogger(__name__)


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _created(location: str, answer: str) -> HttpResponse:
    response = HttpResponse(answer, status=201, content_type=SDP)
    response["Location"] = location
    return add_ice_links(response)


def _is_sdp(request: HttpRequest) -> bool:
    return request.content_type == SDP


def _bearer(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _publisher_seat(room: Room, token: str | None, user: User | None) -> Seat | None:
    seats = Seat.objects.filter(room=room, user__isnull=False)
    if token is not None:
        return seats.filter(publish_token=token).first()
    if user is not None:
        return seats.filter(user=user).first()
    return None


def _csrf_refused(request: HttpRequest) -> bool:
    """Session-cookie requests carry a CSRF token like any unsafe request (X-CSRFToken)."""
    check = CsrfViewMiddleware(lambda _request: HttpResponse())
    return check.process_view(request, _no_view, (), {}) is not None


def _no_view(request: HttpRequest) -> HttpResponse:  # what process_view inspects for csrf_exempt
    return HttpResponse()


async def _offered_room(request: HttpRequest, slug: str) -> Room | HttpResponse:
    """The room an SDP offer is for, or the answer to a request that cannot be one."""
    room = await db_async(Room.objects.filter(slug=slug).first)()
    if room is None:
        return _text(404, "No such live.")
    if not _is_sdp(request):
        return _text(415, f"Send the offer as {SDP}.")
    return room


def _too_many(message: str, wait: float) -> HttpResponse:
    response = _text(429, message)
    response["Retry-After"] = str(retry_after(wait))
    return response


async def _offer_refused(kind: str, client: str | None, limits: MediaLimits) -> HttpResponse | None:
    """429 for an address past its offer rate (a token bucket per address and kind, shared by the
    processes through Redis when it is configured); loopback clients are not limited."""
    address = limited_address(client)
    if address is None:
        return None
    wait = await sync_to_async(token_wait, thread_sensitive=False)(
        f"media:{kind}:{address}", capacity=limits.offer_burst, per_second=limits.offers_per_minute / 60
    )
    if wait:
        return _too_many(f"Too many {kind.upper()} offers from your address; try again later.", wait)
    return None


def _screened(request: HttpRequest, client: str | None, limits: MediaLimits) -> str:
    """The offer's SDP with only the ICE candidates the relay may try (media.limits.candidate_filter)."""
    offer = request.body.decode("utf-8", "replace")
    screened, _dropped = screen_candidates(offer, keep=candidate_filter(client, limits), limit=limits.max_candidates)
    return screened


async def _negotiate(offer: Coroutine[Any, Any, tuple[str, str]]) -> tuple[str, str] | HttpResponse:
    """Run the relay's side of an offer outside the request's context; map its refusals."""
    try:
        return await detached(offer)
    except TooManyPeers as error:
        return _too_many("Too many viewers right now; try again later.", error.retry_after)
    except BadOffer as error:
        return _text(400, f"Unusable SDP offer: {error}")
    except SeatBusy:
        return _text(409, "This seat is already publishing; DELETE that session first.")
    except RelayClosed:
        return _text(409, "This live's media is closing; try again.")


def _internal(request: HttpRequest, slug: str) -> bool:
    """A request from another process of the cluster (an edge, or a forwarded WHIP offer)."""
    return origin.is_internal(request.headers.get(origin.EDGE_HEADER), slug)


def _unavailable(message: str, retry: int = 1) -> HttpResponse:
    response = _text(503, message)
    response["Retry-After"] = str(retry)
    return response


async def _to_origin(request: HttpRequest, slug: str, holder: origin.Holder, client: str | None) -> HttpResponse:
    """Forward the request to the room's origin and answer what it answered. An origin that
    cannot be reached is dead or stalled: its lease runs out within ORIGIN_LEASE_SECONDS and the
    next offer makes a live process the origin (503 + Retry-After until then)."""
    try:
        reply = await edge.forward(
            holder,
            request.method or "POST",
            request.path,
            slug=slug,
            body=request.body,
            headers=request.headers,
            client=client,
        )
    except OSError:
        return _unavailable("This live's media server is not answering; try again in a moment.")
    response = HttpResponse(reply.body, status=reply.status, content_type=reply.headers.get("Content-Type"))
    for name in ("Location", "Link", "Retry-After"):
        if name in reply.headers:
            response[name] = reply.headers[name]
    return response


@csrf_exempt  # bearer requests need no CSRF token; cookie requests are checked in the view
@cross_origin("POST", accept_sdp=True)
async def whip(request: HttpRequest, slug: str) -> HttpResponse:
    limits = media_limits()
    internal = _internal(request, slug)
    client = request.headers.get(origin.CLIENT_HEADER) if internal else client_address(request, limits)
    if not internal and (refused := await _offer_refused("whip", client, limits)) is not None:
        return refused
    room = await _offered_room(request, slug)
    if isinstance(room, HttpResponse):
        return room
    token = _bearer(request)
    user = await request.auser()
    signed_in = user if isinstance(user, User) and user.is_authenticated else None
    if token is None and signed_in is not None and _csrf_refused(request):
        return _text(403, "Missing or wrong CSRF token (send X-CSRFToken), or use the seat's bearer token.")
    seat = await db_async(_publisher_seat)(room, token, signed_in)
    if seat is None:
        return _text(403, "Only a seat holder of this live may publish.")
    if not room.is_live:
        return _text(403, "This live has ended.")
    registry = origin.registry()
    if registry is not None:  # a cluster: the room's publishers are on its origin
        try:
            holder = await registry.claim(room.pk)
        except Exception:  # Redis away: nobody can tell (or take) the room's origin now
            logger.exception("room %s: cannot read the origin registry", room.pk)
            return _unavailable("This live's media servers cannot agree right now; try again in a moment.", 2)
        if holder != registry.me:
            if internal or holder is None:  # forwarded once already: never in circles
                return _unavailable("This server is not this live's origin; try again in a moment.")
            return await _to_origin(request, slug, holder, client)
    media = await detached(services.origin_media(room))
    claim = media.claim(seat.index)
    offer = _screened(request, client, limits)
    result = await _negotiate(
        media.relay.publish(seat.index, offer, client=limited_address(client), limits=limits.peers, credential=token)
    )
    if isinstance(result, HttpResponse) and result.status_code != 409:
        return result
    # The negotiation took seconds: the guest may have been removed, or the token replaced, since
    # the check above (which may have ended the session being negotiated: a 409 here). Check again
    # (the database for what this process has not heard of yet, then what it heard while the
    # check ran), with nothing awaited between that and the answer.
    again = await db_async(_publisher_seat)(room, token, signed_in)
    holds = (
        again is not None
        and (again.index, again.user_id) == (seat.index, seat.user_id)
        and media.still_holds(seat.index, claim, token=token)
    )
    if isinstance(result, HttpResponse):
        return result if holds else _changed_hands()
    session, answer = result
    if not holds or media.relay.publisher_session(seat.index) != session:
        await media.relay.end_session(session)
        return _changed_hands()
    # No video offered (OBS audio only, `ffmpeg -vn`): the seat's camera shows off (media.audio_only).
    await audio_only.published(room_id=room.pk, index=seat.index, user_id=seat.user_id, offer_sdp=offer)
    return _created(f"/rooms/{room.slug}/whip/{session}", answer)


def _changed_hands() -> HttpResponse:
    return _text(403, "This seat changed hands (or its token was replaced) while the offer was answered.")


@csrf_exempt  # watching needs no credentials
@cross_origin("POST", accept_sdp=True)
async def whep(request: HttpRequest, slug: str) -> HttpResponse:
    limits = media_limits()
    client = client_address(request, limits)
    internal = _internal(request, slug)  # an edge's subscription: one peer serving many viewers
    if not internal and (refused := await _offer_refused("whep", client, limits)) is not None:
        return refused
    room = await _offered_room(request, slug)
    if isinstance(room, HttpResponse):
        return room
    if not room.is_live:
        return _text(403, "This live has ended.")
    counted = limited_address(client)
    if internal:
        media = services.media_of(room.pk)
        if media is None or not media.is_origin:  # edges subscribe to the origin only, never to an edge
            return _unavailable("This server is not this live's origin.")
    else:
        try:
            services.admit_viewer(room, counted, limits.peers)  # early: before any relay or peer is made
        except TooManyPeers as error:
            return _too_many("Too many viewers right now; try again later.", error.retry_after)
        media = await detached(services.viewer_media(room))
    result = await _negotiate(
        media.relay.watch(_screened(request, client, limits), client=counted, limits=limits.peers, edge=internal)
    )
    if isinstance(result, HttpResponse):
        return result
    session, answer = result
    return _created(f"/rooms/{room.slug}/whep/{session}", answer)


@csrf_exempt  # the session URL itself is the unguessable capability (RFC 9725 §4.3)
@cross_origin("DELETE")  # no PATCH: the relay gathers every candidate up front (no trickle ICE)
async def end_session(request: HttpRequest, slug: str, session: str, kind: str) -> HttpResponse:
    """`kind` ("whip" / "whep", from the URL) must be the session's: a WHEP id under /whip/ is 404."""
    room = await db_async(Room.objects.filter(slug=slug).first)()
    media = services.media_of(room.pk) if room is not None else None
    role = {"whip": "publisher", "whep": "viewer"}[kind]
    if media is None or not await media.relay.end_session(session, role=role):
        registry = origin.registry()
        if room is not None and kind == "whip" and registry is not None and not _internal(request, slug):
            try:
                holder = await registry.origin_of(room.pk)  # a WHIP session this process forwarded
            except Exception:
                return _unavailable("This live's media servers cannot agree right now; try again in a moment.", 2)
            if holder is not None and holder != registry.me:
                return await _to_origin(request, slug, holder, None)
        return _text(404, "No such session (already ended?).")
    return HttpResponse(status=204)


TOKEN_REFUSAL_STATUS = {"unauthenticated": 401, "room_ended": 403, "forbidden": 403}


@require_POST  # the studio page, signed in, with its CSRF token (no CORS: not for other origins)
async def rotate_token(request: HttpRequest, slug: str) -> HttpResponse:
    """Replace the caller's WHIP bearer token; a stream published with the old one ends now.

    Any process may serve it: here, the relay (if this process is the room's origin) ends the old
    token's stream at once; elsewhere, the new token's `seat.token` reaches the origin's hub,
    whose relay ends it (`services.RoomMedia.token_is`)."""
    room = await db_async(Room.objects.filter(slug=slug).first)()
    if room is None:
        return _text(404, "No such live.")
    try:
        seat, old = await db_async(seats.rotate_publish_token)(room=room, user=await request.auser())
    except ActionError as error:
        return JsonResponse(
            {"code": error.code, "message": error.message}, status=TOKEN_REFUSAL_STATUS.get(error.code, 400)
        )
    media = services.media_of(room.pk)
    if media is not None:
        await media.revoke(seat.index, old)
    return JsonResponse({"url": f"/rooms/{room.slug}/whip", "token": seat.publish_token})
