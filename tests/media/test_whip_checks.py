"""WHIP decides who publishes after the negotiation too, and a session DELETE matches its own kind.

A WHIP answer takes seconds (ICE gathering waits on the STUN server: tests.media.slow_stun makes it
take that long here). A guest removed, or a token replaced, in that gap must not start publishing
into the seat (the next guest's tile would show the old guest's video)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import ThreadSensitiveContext
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.test import AsyncClient

from liverooms.db import db_async
from media import services
from rooms import seats
from rooms.models import Room, Seat
from tests.media.peers import Publisher, Viewer, token_of, wait_for
from tests.media.slow_stun import slow_stun

pytestmark = pytest.mark.django_db(transaction=True)
SDP = "application/sdp"
STUN_DELAY = 1.5


@pytest.fixture
async def slow_answers(settings: Any) -> AsyncIterator[None]:
    async with slow_stun(STUN_DELAY) as url:
        settings.MEDIA_ICE_SERVERS = [url]
        yield


async def post_whip(room: Room, offer: str, token: str) -> Any:
    # Its own thread for sync middleware, as Django's ASGIHandler gives each request under daphne
    # (AsyncClient does not: requests made at the same time would queue behind this one).
    async with ThreadSensitiveContext():
        return await AsyncClient().post(
            f"/rooms/{room.slug}/whip", data=offer, content_type=SDP, headers={"Authorization": f"Bearer {token}"}
        )


async def negotiating(room: Room, index: int) -> services.RoomMedia:
    """Wait until the relay is answering an offer for seat `index` (the seat is reserved)."""
    await wait_for(
        lambda: (m := services.media_of(room.pk)) is not None and m.relay.publisher_session(index) is not None,
        what=f"a negotiation for seat {index}",
    )
    media = services.media_of(room.pk)
    assert media is not None
    return media


async def test_it_refuses_a_guest_removed_while_their_offer_was_answered(
    relays: None, slow_answers: None, room: Room, alice: User, bob: User
) -> None:
    await database_sync_to_async(seats.seat_user)(room=room, user=bob, index=1)
    token = await database_sync_to_async(token_of)(room, 1)
    publisher = Publisher(1)
    try:
        post = asyncio.ensure_future(post_whip(room, await publisher.offer(), token))
        media = await negotiating(room, 1)
        await db_async(seats.remove)(room=room, user=alice, index=1)
        assert not post.done(), "the answer came before the removal: make STUN_DELAY longer"
        response = await post
        assert response.status_code == 403, response.content
        assert media.relay.publisher_session(1) is None
        assert media.relay.session_count() == 0
        assert media.relay.publisher(1) is None
        assert not (await database_sync_to_async(Seat.objects.get)(room=room, index=1)).publishing
    finally:
        await publisher.close()


async def test_it_refuses_a_token_replaced_while_its_offer_was_answered(
    relays: None, slow_answers: None, room: Room, alice: User
) -> None:
    old = await database_sync_to_async(token_of)(room, 0)
    publisher = Publisher(0)
    studio = AsyncClient()
    await studio.aforce_login(alice)
    try:
        post = asyncio.ensure_future(post_whip(room, await publisher.offer(), old))
        media = await negotiating(room, 0)
        assert (await studio.post(f"/rooms/{room.slug}/whip/token")).status_code == 200
        assert not post.done(), "the answer came before the rotation: make STUN_DELAY longer"
        response = await post
        assert response.status_code == 403, response.content
        assert media.relay.session_count() == 0
        assert media.relay.publisher(0) is None
    finally:
        await publisher.close()


async def test_it_still_publishes_when_nothing_changed_meanwhile(relays: None, slow_answers: None, room: Room) -> None:
    token = await database_sync_to_async(token_of)(room, 0)
    publisher = Publisher(0)
    try:
        response = await post_whip(room, await publisher.offer(), token)
        assert response.status_code == 201, response.content
        media = services.media_of(room.pk)
        assert media is not None
        assert (seat := media.relay.publisher(0)) is not None
        assert seat.credential == token
    finally:
        await publisher.close()


async def test_a_session_delete_matches_only_its_own_kind(relays: None, room: Room) -> None:
    client = AsyncClient()
    token = await database_sync_to_async(token_of)(room, 0)
    publisher, viewer = Publisher(0), Viewer(1)
    try:
        published = await post_whip(room, await publisher.offer(), token)
        watched = await client.post(f"/rooms/{room.slug}/whep", data=await viewer.offer(), content_type=SDP)
        assert (published.status_code, watched.status_code) == (201, 201)
        whip_id = published["Location"].rsplit("/", 1)[1]
        whep_id = watched["Location"].rsplit("/", 1)[1]
        assert (await client.delete(f"/rooms/{room.slug}/whip/{whep_id}")).status_code == 404
        assert (await client.delete(f"/rooms/{room.slug}/whep/{whip_id}")).status_code == 404
        media = services.media_of(room.pk)
        assert media is not None
        assert media.relay.session_count() == 2  # neither was ended
        assert (seat := media.relay.publisher(0)) is not None
        assert seat.session == whip_id
        assert (await client.delete(watched["Location"])).status_code == 204
        assert (await client.delete(published["Location"])).status_code == 204
        assert media.relay.session_count() == 0
    finally:
        await publisher.close()
        await viewer.close()
