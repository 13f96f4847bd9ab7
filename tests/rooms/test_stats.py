"""Room figures: counted off the hot path, from what hubs report and what the database holds."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from comments.actions import post_comment, remove_comment
from liverooms.webhooks.models import Endpoint, Event
from rooms import stats
from rooms.models import Room, RoomStats, RoomViewer, Seat
from rooms.stats import viewer_key
from tests.sockets import join


def test_a_viewer_is_the_account_else_the_session_else_the_browser() -> None:
    assert viewer_key(user_id=7, session_key="s", client="1.2.3.4|ua") == "user:7"
    by_session = viewer_key(user_id=None, session_key="abc", client="1.2.3.4|ua")
    assert by_session == viewer_key(user_id=None, session_key="abc", client="5.6.7.8|other")
    assert by_session != viewer_key(user_id=None, session_key="xyz", client="1.2.3.4|ua")
    by_client = viewer_key(user_id=None, session_key=None, client="1.2.3.4|ua")
    assert by_client.startswith("anon:")
    assert "1.2.3.4" not in by_client


@pytest.mark.django_db
def test_reports_from_several_processes_add_up(room: Room) -> None:
    stats.record_presence(room_id=room.pk, viewer_keys={"user:1", "user:2"}, viewers=2, reactions={"heart": 5})
    stats.record_presence(
        room_id=room.pk, viewer_keys={"user:2", "anon:x"}, viewers=7, reactions={"heart": 1, "fire": 2}
    )
    stats.record_presence(room_id=room.pk, viewer_keys=set(), viewers=3, reactions={})
    figures = stats.refresh(room_id=room.pk)
    assert (figures.peak_viewers, figures.unique_viewers) == (7, 3)
    assert (figures.hearts, figures.other_reactions) == (6, 2)


@pytest.mark.django_db
def test_refresh_counts_comments_and_removals(room: Room, carol: User) -> None:
    post_comment(room=room, author=carol, text="one")
    removed = post_comment(room=room, author=carol, text="two")
    remove_comment(comment=removed, by=None)
    figures = stats.refresh(room_id=room.pk)
    assert (figures.comments, figures.removed_comments) == (2, 1)
    assert figures.refreshed_at is not None


@pytest.mark.django_db
def test_a_new_peak_is_announced_once(room: Room) -> None:
    Endpoint.objects.create(url="http://127.0.0.1:9/hook", event_types=["viewer.peak"])
    stats.record_presence(room_id=room.pk, viewer_keys=(), viewers=40, reactions={})
    stats.refresh(room_id=room.pk)
    stats.refresh(room_id=room.pk)
    stats.record_presence(room_id=room.pk, viewer_keys=(), viewers=30, reactions={})
    stats.refresh(room_id=room.pk)
    stats.record_presence(room_id=room.pk, viewer_keys=(), viewers=55, reactions={})
    stats.refresh(room_id=room.pk)
    peaks = Event.objects.filter(type="viewer.peak", room=room).order_by("id")
    assert [event.data["viewers"] for event in peaks] == [40, 55]


@pytest.mark.django_db
def test_rooms_to_refresh_are_live_ones_and_ended_ones_not_counted_since(room: Room, bob: User) -> None:
    other = Room.objects.create(slug="over", title="over", host=bob, status="ended", ended_at=timezone.now())
    assert set(stats.rooms_to_refresh()) == {room.pk, other.pk}
    stats.refresh(room_id=other.pk)
    assert set(stats.rooms_to_refresh()) == {room.pk}


@pytest.mark.django_db(transaction=True)
async def test_the_hub_reports_who_is_here(room: Room, alice: User, bob: User, carol: User) -> None:
    from rooms.seats import seat_user

    await sync_to_async(seat_user)(room=room, user=bob, index=1)
    long_ago = timezone.now() - timezone.timedelta(hours=1)
    await Room.objects.filter(pk=room.pk).aupdate(host_seen_at=long_ago)
    await Seat.objects.filter(room=room).aupdate(seen_at=long_ago)
    host, guest, viewer, anonymous = [await join(room, user) for user in (alice, bob, carol, None)]
    for _ in range(50):
        await asyncio.sleep(0.1)
        figures = await RoomStats.objects.aget(room=room)
        if figures.peak_viewers == 2 and await RoomViewer.objects.filter(room=room).acount() == 4:
            break
    keys = {key async for key in RoomViewer.objects.filter(room=room).values_list("key", flat=True)}
    assert {f"user:{alice.pk}", f"user:{bob.pk}", f"user:{carol.pk}"} < keys
    assert len(keys) == 4
    refreshed = await Room.objects.aget(pk=room.pk)
    assert refreshed.host_seen_at > long_ago
    seen = {s.index: s.seen_at async for s in Seat.objects.filter(room=room, user__isnull=False)}
    assert all(at > long_ago for at in seen.values())
    assert (await RoomStats.objects.aget(room=room)).peak_viewers == 2  # carol and the anonymous tab: not the stage
    for peer in (host, guest, viewer, anonymous):
        await peer.close()


@pytest.mark.django_db
def test_the_admin_shows_a_rooms_figures(admin_client, room: Room, carol: User) -> None:
    post_comment(room=room, author=carol, text="hi")
    stats.record_presence(room_id=room.pk, viewer_keys={"user:1", "anon:2"}, viewers=12, reactions={"heart": 31})
    stats.refresh(room_id=room.pk)
    listing = admin_client.get(reverse("admin:rooms_room_changelist")).content.decode()
    assert '<td class="field-peak_viewers">12</td>' in listing
    assert '<td class="field-hearts">31</td>' in listing
    page = admin_client.get(reverse("admin:rooms_room_change", args=[room.pk])).content.decode()
    assert "unique viewers" in page.lower()
