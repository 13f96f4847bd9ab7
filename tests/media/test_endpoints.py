"""WHIP and WHEP over HTTP against the real relay: who may publish, what a bad request gets, and
that a seat's media reaches a viewer and its `publishing` state reaches everyone."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from media import services
from rooms import seats
from rooms.models import Room, Seat
from tests.media.peers import Publisher, Viewer, luma_of, seat_level, token_of
from tests.waiting import wait_for_db as wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SDP = "application/sdp"


async def post_offer(client: AsyncClient, url: str, sdp: str, token: str | None = None, **extra: str):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post(url, data=sdp, content_type=SDP, headers=headers, **extra)


async def test_a_seat_holder_publishes_and_a_viewer_sees_that_seat(relays: None, room: Room) -> None:
    client = AsyncClient()
    publisher, watcher = Publisher(0), Viewer()
    offer, watch_offer = await publisher.offer(), await watcher.offer()
    try:
        token = await database_sync_to_async(token_of)(room, 0)
        published = await post_offer(client, f"/rooms/{room.slug}/whip", offer, token)
        assert published.status_code == 201, published.content
        assert published["Content-Type"] == SDP
        assert published["Location"].startswith(f"/rooms/{room.slug}/whip/")
        await publisher.accept(published.content.decode())
        await wait_for(lambda: Seat.objects.get(room=room, index=0).publishing)

        watched = await post_offer(client, f"/rooms/{room.slug}/whep", watch_offer)
        assert watched.status_code == 201, watched.content
        assert "seat-0" in watched.content.decode()
        await watcher.accept(watched.content.decode())
        assert abs(await luma_of(watcher.track(0, "video")) - seat_level(0)) < 12

        ended = await client.delete(published["Location"])
        assert ended.status_code == 204
        assert (await client.delete(published["Location"])).status_code == 404
        await wait_for(lambda: not Seat.objects.get(room=room, index=0).publishing)
    finally:
        await publisher.close()
        await watcher.close()


async def test_only_a_seat_holder_may_publish(relays: None, room: Room, bob, carol) -> None:
    await database_sync_to_async(seats.seat_user)(room=room, user=bob, index=1)
    _pc = Publisher(1)
    offer = await _pc.offer()
    try:
        client = AsyncClient()
        assert (await post_offer(client, f"/rooms/{room.slug}/whip", offer)).status_code == 403
        assert (await post_offer(client, f"/rooms/{room.slug}/whip", offer, "not-a-token")).status_code == 403
        await client.aforce_login(carol)
        assert (await post_offer(client, f"/rooms/{room.slug}/whip", offer)).status_code == 403
        # a seat holder signed in, but without the CSRF token a cookie request needs
        bob_client = AsyncClient(enforce_csrf_checks=True)
        await bob_client.aforce_login(bob)
        assert (await post_offer(bob_client, f"/rooms/{room.slug}/whip", offer)).status_code == 403
    finally:
        await _pc.close()


async def test_bad_requests_get_clear_answers(relays: None, room: Room) -> None:
    client = AsyncClient()
    token = await database_sync_to_async(token_of)(room, 0)
    whip = f"/rooms/{room.slug}/whip"
    wrong_type = await client.post(
        whip, data="v=0", content_type="text/plain", headers={"Authorization": f"Bearer {token}"}
    )
    assert wrong_type.status_code == 415
    garbage = await post_offer(client, whip, "this is not sdp", token)
    assert garbage.status_code == 400
    assert garbage.content
    assert (await post_offer(client, "/rooms/nosuchroom/whip", "v=0", token)).status_code == 404
    assert (await post_offer(client, f"/rooms/{room.slug}/whep", "garbage")).status_code == 400
    assert (await client.delete(f"/rooms/{room.slug}/whep/nosuchsession")).status_code == 404


async def test_a_seat_publishes_once(relays: None, room: Room) -> None:
    client = AsyncClient()
    token = await database_sync_to_async(token_of)(room, 0)
    first, second = Publisher(0), Publisher(0)
    first_offer, second_offer = await first.offer(), await second.offer()
    try:
        published = await post_offer(client, f"/rooms/{room.slug}/whip", first_offer, token)
        assert published.status_code == 201
        assert (await post_offer(client, f"/rooms/{room.slug}/whip", second_offer, token)).status_code == 409
    finally:
        await first.close()
        await second.close()


async def test_an_ended_room_takes_no_media_and_closes_its_peers(relays: None, room: Room) -> None:
    from rooms.actions import end_room

    client = AsyncClient()
    token = await database_sync_to_async(token_of)(room, 0)
    publisher = Publisher(0)
    offer = await publisher.offer()
    try:
        published = await post_offer(client, f"/rooms/{room.slug}/whip", offer, token)
        assert published.status_code == 201
        media = services.media_of(room.pk)
        assert media is not None
        assert media.relay.session_count() == 1
        await database_sync_to_async(end_room)(room=room)
        deadline = asyncio.get_running_loop().time() + 5
        while services.media_of(room.pk) is not None:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        assert media.relay.session_count() == 0
        _again = Publisher(0)
        again_offer = await _again.offer()
        assert (await post_offer(client, f"/rooms/{room.slug}/whip", again_offer, token)).status_code == 403
        assert (await post_offer(client, f"/rooms/{room.slug}/whep", again_offer)).status_code == 403
        await _again.close()
    finally:
        await publisher.close()
