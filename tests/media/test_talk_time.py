"""Talk time per seat in the room's figures: the relay's speaking detector counts each stretch of
speech (first loud packet to last), the room's tally credits it to the user on that seat and writes
it as it goes and when the room ends; the host sees it on the recap, in English and French.

Real aiortc publishers through WHIP (aiortc's sender writes the RFC 6464 level of what it sends):
a tone on the host's seat for a measured time, silence on the guest's; then the host's mic off
with the tone still on, which must not count."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import AsyncClient, Client, override_settings

from liverooms.db import db_async
from media import services
from media.models import TalkTime
from media.origin import Registry
from media.speaking import SpeakingDetector
from rooms import actions, seats
from rooms.models import Room, Seat
from tests.media.peers import Publisher, publish_via_whip, token_of, wait_for
from tests.media.test_edge import media_process, offer
from tests.media.test_speaking import Clock, ToneTrack
from tests.waiting import wait_for_db

# How far the counted talk may be from the time the test held the tone on. Each edge of a burst
# lands on a 20 ms Opus frame, and the tone's frames, aiortc's sender, the relay and the test all
# share this one event loop, so each edge may shift by a few frames when the machine is busy:
# 5 frames an edge, both edges, is 0.2 s. A count that missed the pauses rule (stopping at 100 ms)
# or kept counting the 500 ms hangover or the muted second would be off by more.
TOLERANCE = 0.2
TALK = 3.0  # seconds the host talks


async def test_it_counts_each_stretch_from_its_first_loud_packet_to_its_last() -> None:
    clock, talk = Clock(), []
    detector = SpeakingDetector(lambda seats: None, clock=clock, max_per_second=1000)
    detector.on_talk = lambda seat, seconds: talk.append((seat, round(seconds, 3)))

    def loud(seat: int, seconds: float) -> None:
        end = clock.now + seconds
        while clock.now < end - 1e-9:
            detector.heard(seat, 20)
            clock.now += 0.02
        clock.now -= 0.02  # the last packet's arrival

    try:
        loud(0, 0.06)  # a cough: never speech, never counted
        clock.now += 0.6
        detector.check()
        assert talk == []
        loud(0, 1.0)
        clock.now += 0.3  # a pause between words is part of the stretch
        detector.check()
        loud(0, 0.5)
        detector.count_talk()  # written as it goes: the stretch so far (first packet to last)
        assert talk == [(0, 1.76)]
        clock.now += 0.6
        detector.check()  # silence: the stretch ends, and nothing of it is told twice
        assert talk == [(0, 1.76)]
        loud(1, 0.4)
        detector.muted(1)  # mic off mid-word: what was heard before counts, nothing after
        assert talk[-1] == (1, 0.38)
        loud(0, 0.2)
        detector.close()  # the room's media closes: a stretch still going counts as it stands
        assert talk[-1] == (0, 0.18)
    finally:
        detector.close()


async def publish(client: AsyncClient, room: Room, publisher: Publisher) -> str:
    """Publish through the WHIP view; the session's URL (DELETE it to stop)."""
    return str((await publish_via_whip(client, room, publisher))["Location"])


def talk_of(room: Room) -> dict[tuple[int, str], float]:
    rows = TalkTime.objects.filter(room=room).select_related("user")
    return {(row.seat_index, row.user.username): row.seconds for row in rows}


def publishing(room: Room, index: int) -> bool:
    return Seat.objects.get(room=room, index=index).publishing


@pytest.mark.django_db(transaction=True)
@override_settings(TALK_TIME_FLUSH_SECONDS=0.5)
async def test_the_host_sees_how_long_each_seat_talked_after_the_live(
    relays: None, room: Room, alice: User, bob: User, carol: User
) -> None:
    await db_async(seats.seat_user)(room=room, user=bob, index=1)
    host, guest = Publisher(0, video=False), Publisher(1, video=False)  # the guest sends silence
    tone = ToneTrack()
    tone.on = False
    host.pc.getTransceivers()[0].sender.replaceTrack(tone)
    client = AsyncClient()
    try:
        await publish(client, room, host)
        await publish(client, room, guest)
        for index in (0, 1):
            await wait_for_db(lambda i=index: publishing(room, i), within=10, what=f"seat {index} publishing")
        media = services.media_of(room.pk)
        assert media is not None
        await wait_for(lambda: media.relay.forwarding(0)["audio"], within=5, what="the relay forwarding")

        tone.on = True
        began = time.monotonic()
        await asyncio.sleep(TALK / 2)
        # written as it goes, not only at the end (FLUSH_EVERY, shortened here)
        await wait_for_db(lambda: talk_of(room).get((0, "alice"), 0) > 0.5, within=3, what="talk so far")
        await asyncio.sleep(began + TALK - time.monotonic())
        tone.on = False
        held = time.monotonic() - began
        await asyncio.sleep(1.0)  # past the 500 ms that end a stretch

        # the host's mic off, the tone on again: a muted mic never talks
        await db_async(seats.set_devices)(room=room, user=alice, mic=False)
        await wait_for(lambda: not media.relay.forwarding(0)["audio"], within=5, what="the mic muted at the relay")
        tone.on = True
        await asyncio.sleep(1.5)

        # the live ends: the origin writes what it still holds
        await db_async(actions.end_room)(room=room)
        await wait_for(lambda: services.media_of(room.pk) is None, within=10, what="the room's media closed")
    finally:
        await host.close()
        await guest.close()

    talk = await database_sync_to_async(talk_of)(room)
    assert set(talk) == {(0, "alice"), (1, "bob")}, talk
    assert abs(talk[(0, "alice")] - held) <= TOLERANCE, (talk, held)
    assert talk[(1, "bob")] == 0

    # the recap: the host sees it (English, then French); a viewer does not
    page = await database_sync_to_async(recap_as)(alice, room)
    assert "Talk time" in page
    seconds = round(talk[(0, "alice")])
    assert f'data-seat="0" data-seconds="{seconds}"' in page
    assert f"{seconds} s</span>" in page
    assert 'data-seat="1" data-seconds="0"' in page
    assert "@bob" in page
    french = await database_sync_to_async(recap_as)(alice, room, language="fr")
    assert "Temps de parole" in french
    assert "(hôte)" in french
    assert "(place 1)" in french
    assert "Talk time" not in await database_sync_to_async(recap_as)(carol, room)
    assert "Talk time" not in await database_sync_to_async(recap_as)(None, room)


def recap_as(user: User | None, room: Room, language: str = "en") -> str:
    client = Client(headers={"accept-language": language})
    if user is not None:
        client.force_login(user)
    response = client.get(f"/rooms/{room.slug}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db(transaction=True)
async def test_talk_goes_to_whoever_held_the_seat(relays: None, room: Room, bob: User, carol: User) -> None:
    """Bob talks from seat 1, leaves; Carol takes seat 1 and stays silent: the seat's talk is Bob's."""
    await db_async(seats.seat_user)(room=room, user=bob, index=1)
    client = AsyncClient()
    first = Publisher(1, video=False)
    tone = ToneTrack()
    first.pc.getTransceivers()[0].sender.replaceTrack(tone)
    second = Publisher(1, video=False)
    try:
        await publish(client, room, first)
        await wait_for_db(lambda: publishing(room, 1), within=10, what="bob publishing")
        await asyncio.sleep(1.5)
        await db_async(seats.leave)(room=room, user=bob)  # mid-word: his stretch ends with him
        await db_async(seats.seat_user)(room=room, user=carol, index=1)
        await publish(client, room, second)
        await wait_for_db(lambda: publishing(room, 1), within=10, what="carol publishing")
        await asyncio.sleep(1.0)
        await db_async(actions.end_room)(room=room)
        await wait_for(lambda: services.media_of(room.pk) is None, within=10, what="the room's media closed")
    finally:
        await first.close()
        await second.close()
    talk = await database_sync_to_async(talk_of)(room)
    assert set(talk) == {(1, "bob"), (1, "carol")}, talk
    assert 0.8 <= talk[(1, "bob")] <= 2.5, talk
    assert talk[(1, "carol")] == 0


@pytest.mark.skipif(
    not settings.REDIS_URL or not connection.settings_dict["ENGINE"].endswith("postgresql"),
    reason="several processes on one room need PostgreSQL and Redis",
)
@pytest.mark.django_db(transaction=True)
async def test_the_origin_process_writes_the_talk_when_the_live_ends_from_another(room: Room) -> None:
    """The relay (and so the speaking detector) is in a daphne process, the room's origin; the live
    ends from this one (as from the host's socket on another process, or the admin): the origin
    hears `room.ended` through Redis and writes what it counted."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(Registry.key(room.pk))  # room ids repeat across runs; Redis outlives the test database
    host = Publisher(0, video=False)
    tone = ToneTrack()
    tone.on = False
    host.pc.getTransceivers()[0].sender.replaceTrack(tone)
    try:
        with media_process() as origin:
            token = await database_sync_to_async(token_of)(room, 0)
            await host.accept(await offer(origin, room.slug, "whip", await host.offer(), token))
            await wait_for_db(lambda: publishing(room, 0), within=15, what="the host publishing")
            await asyncio.sleep(0.5)  # the origin's relay knows the seats: it forwards the mic
            tone.on = True
            began = time.monotonic()
            await asyncio.sleep(2.0)
            tone.on = False
            held = time.monotonic() - began
            await asyncio.sleep(1.0)
            assert not await database_sync_to_async(talk_of)(room)  # nothing written yet (FLUSH_EVERY)
            await db_async(actions.end_room)(room=room)
            await wait_for_db(lambda: bool(talk_of(room)), within=10, what="the origin's talk time")
    finally:
        await host.close()
        client.delete(Registry.key(room.pk))
        client.close()
    talk = await database_sync_to_async(talk_of)(room)
    assert set(talk) == {(0, "alice")}, talk
    assert abs(talk[(0, "alice")] - held) <= TOLERANCE, (talk, held)
