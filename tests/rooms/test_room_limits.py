"""Issue #12: one host cannot fill "Live now", and nobody opens rooms in a loop."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from rooms.actions import end_room
from rooms.models import Room

pytestmark = pytest.mark.django_db


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def go_live(client: Client, title: str = "Live") -> Any:
    return client.post(reverse("rooms:create"), {"title": title})


def test_a_host_already_live_is_sent_back_to_their_room(alice: User) -> None:
    client = client_of(alice)
    first = go_live(client, "First")
    room = Room.objects.get()
    assert first.status_code == 302
    answers = [go_live(client, f"Again {n}") for n in range(14)]
    assert {page.status_code for page in answers} == {409}
    page = answers[-1].content.decode()
    assert "You are already live in “First”." in page
    assert f'<a href="/rooms/{room.slug}/">Go back to it</a>' in page
    assert list(Room.objects.values_list("title", flat=True)) == ["First"]


def test_a_flood_of_go_live_fills_no_more_than_one_slot_on_the_home_page(alice: User, bob: User) -> None:
    client = client_of(alice)
    for n in range(25):
        go_live(client, f"spam {n}")
    go_live(client_of(bob), "Bob's live")
    home = client.get(reverse("home")).content.decode()
    assert home.count('class="room-card"') == 2
    assert Room.objects.filter(status=Room.Status.LIVE).count() == 2


def test_after_ending_the_live_the_host_goes_live_again(alice: User) -> None:
    client = client_of(alice)
    go_live(client, "First")
    end_room(room=Room.objects.get())
    assert go_live(client, "Second").status_code == 302
    assert Room.objects.filter(status=Room.Status.LIVE).get().title == "Second"


def test_the_live_cap_is_a_setting(alice: User, settings: Any) -> None:
    settings.ROOMS_LIVE_PER_HOST = 2
    client = client_of(alice)
    assert [go_live(client).status_code for _ in range(3)] == [302, 302, 409]


def test_opening_rooms_in_a_loop_is_slowed_down(alice: User, bob: User, settings: Any) -> None:
    settings.ROOMS_CREATED_PER_HOUR = 3
    client = client_of(alice)
    answers = []
    for n in range(5):
        page = go_live(client, f"restart {n}")
        answers.append(page.status_code)
        if page.status_code == 302:
            end_room(room=Room.objects.get(status=Room.Status.LIVE))
    assert answers == [302, 302, 302, 429, 429]
    assert page.status_code == 429
    assert 1100 <= int(page["Retry-After"]) <= 1200  # 3 an hour: one every 20 minutes
    assert "You have started too many lives in a short time. Try again in 20 minutes." in page.content.decode()
    assert Room.objects.count() == 3
    assert go_live(client_of(bob), "Bob's live").status_code == 302


def test_a_refused_live_costs_no_creation_token(alice: User, settings: Any) -> None:
    settings.ROOMS_CREATED_PER_HOUR = 2
    client = client_of(alice)
    assert go_live(client).status_code == 302
    assert [go_live(client).status_code for _ in range(5)] == [409] * 5
    end_room(room=Room.objects.get())
    assert go_live(client).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_two_go_lives_at_once_open_one_room(alice: User) -> None:
    """A double click, or a script racing itself: the host's row lock lets one through."""
    rounds = 5 if connection.vendor == "postgresql" else 2
    for _ in range(rounds):
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def post(barrier: threading.Barrier = barrier, statuses: list[int] = statuses) -> None:
            client = client_of(alice)
            barrier.wait()
            try:
                statuses.append(go_live(client).status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(statuses) == [302, 409]
        assert Room.objects.filter(status=Room.Status.LIVE).count() == 1
        end_room(room=Room.objects.get(status=Room.Status.LIVE))
