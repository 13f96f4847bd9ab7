"""Publish tokens: a seat holder replaces theirs (the studio's "New token"); the old one is refused
at once and a stream published with it ends."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from liverooms.errors import ActionError
from media import services
from rooms import seats
from rooms.models import Room, Seat
from tests.media.peers import Publisher, token_of
from tests.waiting import wait_for as wait_until
from tests.waiting import wait_for_db as wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SDP = "application/sdp"


async def post_offer(client: AsyncClient, room: Room, offer: str, token: str):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/rooms/{room.slug}/whip", data=offer, content_type=SDP, headers={"Authorization": f"Bearer {token}"}
    )


def test_it_replaces_only_the_callers_token(room: Room, alice, bob, carol) -> None:  # type: ignore[no-untyped-def]
    seats.seat_user(room=room, user=bob, index=2)
    before = {index: token_of(room, index) for index in (0, 2)}
    seat, old = seats.rotate_publish_token(room=room, user=bob)
    assert (seat.index, old) == (2, before[2])
    assert token_of(room, 2) not in ("", before[2])
    assert token_of(room, 0) == before[0]
    with pytest.raises(ActionError) as refused:
        seats.rotate_publish_token(room=room, user=carol)  # not on stage
    assert refused.value.code == "forbidden"


async def test_the_old_token_is_refused_and_its_stream_ends(relays: None, room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    publisher, again, newer = Publisher(0), Publisher(0), Publisher(0)
    try:
        old = await database_sync_to_async(token_of)(room, 0)
        client = AsyncClient()
        published = await post_offer(client, room, await publisher.offer(), old)
        assert published.status_code == 201
        await publisher.accept(published.content.decode())
        await wait_for(lambda: Seat.objects.get(room=room, index=0).publishing)

        studio = AsyncClient()
        await studio.aforce_login(alice)
        rotated = await studio.post(f"/rooms/{room.slug}/whip/token")
        assert rotated.status_code == 200
        new = rotated.json()["token"]
        assert rotated.json()["url"] == f"/rooms/{room.slug}/whip"
        assert new not in ("", old)
        assert new == await database_sync_to_async(token_of)(room, 0)

        # the stream published with the old token is cut off, and the old token opens nothing
        await wait_for(lambda: not Seat.objects.get(room=room, index=0).publishing)
        media = services.media_of(room.pk)
        assert media is not None
        assert media.relay.session_count() == 0
        refused = await post_offer(client, room, await again.offer(), old)
        assert refused.status_code == 403
        accepted = await post_offer(client, room, await newer.offer(), new)
        assert accepted.status_code == 201
    finally:
        for peer in (publisher, again, newer):
            await peer.close()


async def test_only_a_signed_in_seat_holder_with_a_csrf_token_rotates(room: Room, alice, carol) -> None:  # type: ignore[no-untyped-def]
    url = f"/rooms/{room.slug}/whip/token"
    token = await database_sync_to_async(token_of)(room, 0)
    assert (await AsyncClient().post(url)).status_code == 401
    viewer = AsyncClient()
    await viewer.aforce_login(carol)
    assert (await viewer.post(url)).status_code == 403
    strict = AsyncClient(enforce_csrf_checks=True)
    await strict.aforce_login(alice)
    assert (await strict.post(url)).status_code == 403  # no X-CSRFToken
    # a bearer token does not rotate itself (a leaked token must not lock its owner out)
    assert (await AsyncClient().post(url, headers={"Authorization": f"Bearer {token}"})).status_code == 401
    assert (await AsyncClient().post("/rooms/nosuchroom/whip/token")).status_code == 404
    assert await database_sync_to_async(token_of)(room, 0) == token


async def test_an_ended_live_keeps_its_tokens(room: Room, alice) -> None:  # type: ignore[no-untyped-def]
    from rooms.actions import end_room

    await database_sync_to_async(end_room)(room=room)
    client = AsyncClient()
    await client.aforce_login(alice)
    response = await client.post(f"/rooms/{room.slug}/whip/token")
    assert response.status_code == 403
    assert response.json()["code"] == "room_ended"


async def test_a_removed_guests_stream_ends_and_their_token_opens_nothing(relays: None, room: Room, alice, bob) -> None:  # type: ignore[no-untyped-def]
    await database_sync_to_async(seats.seat_user)(room=room, user=bob, index=1)
    publisher, again = Publisher(1), Publisher(1)
    try:
        token = await database_sync_to_async(token_of)(room, 1)
        client = AsyncClient()
        published = await post_offer(client, room, await publisher.offer(), token)
        assert published.status_code == 201
        await publisher.accept(published.content.decode())
        await wait_for(lambda: Seat.objects.get(room=room, index=1).publishing)
        media = services.media_of(room.pk)
        assert media is not None
        assert (seat := media.relay.publisher(1)) is not None
        assert seat.credential == token

        await database_sync_to_async(seats.remove)(room=room, user=alice, index=1)
        await wait_until(lambda: media.relay.session_count() == 0, what="the guest's stream ended")
        assert media.relay.publisher(1) is None
        assert (await post_offer(client, room, await again.offer(), token)).status_code == 403
    finally:
        for peer in (publisher, again):
            await peer.close()
