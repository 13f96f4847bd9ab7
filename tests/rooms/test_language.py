"""The room socket speaks its user's language (#13): the language cookie the header's switcher
sets, else the browser's Accept-Language, as pages choose it. Only `message` changes; `code` is
the protocol's and stays as it is."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from rooms.models import Room
from tests.sockets import join

FRENCH = [(b"accept-language", b"fr-FR,fr;q=0.9,en;q=0.5")]


@pytest.mark.django_db(transaction=True)
async def test_it_answers_a_french_browser_in_french(room: Room, carol: User) -> None:
    viewer = await join(room, carol, headers=FRENCH)
    error = await viewer.ask("room.end")
    assert error["code"] == "forbidden"
    assert error["message"] == "Seul l'hôte peut faire ça."
    error = await viewer.ask("comment.post", text="\u200b ")
    assert (error["code"], error["message"]) == ("bad_request", "Un commentaire ne peut pas être vide.")
    error = await viewer.ask("reaction.send", kind="confetti")
    assert error["code"] == "bad_request"
    assert error["message"].startswith("Réaction inconnue 'confetti'")
    await viewer.close()


@pytest.mark.django_db(transaction=True)
async def test_an_anonymous_french_viewer_is_told_to_log_in_in_french(room: Room) -> None:
    anonymous = await join(room, None, headers=FRENCH)
    error = await anonymous.ask("comments.set", enabled=False)
    assert (error["code"], error["message"]) == ("unauthenticated", "Connectez-vous d'abord.")
    await anonymous.close()


@pytest.mark.django_db(transaction=True)
async def test_the_language_cookie_wins_over_the_browser(room: Room, carol: User) -> None:
    chosen = await join(room, carol, headers=[(b"accept-language", b"en"), (b"cookie", b"django_language=fr")])
    assert (await chosen.ask("room.end"))["message"] == "Seul l'hôte peut faire ça."
    await chosen.close()
    english = await join(room, carol, headers=[(b"accept-language", b"fr"), (b"cookie", b"django_language=en")])
    assert (await english.ask("room.end"))["message"] == "Only the host can do that."
    await english.close()


@pytest.mark.django_db(transaction=True)
async def test_each_socket_keeps_its_own_language(room: Room, bob: User, carol: User) -> None:
    french = await join(room, carol, headers=FRENCH)
    english = await join(room, bob, headers=[(b"accept-language", b"de, en;q=0.5")])
    for _ in range(3):
        assert (await english.ask("room.end"))["message"] == "Only the host can do that."
        assert (await french.ask("room.end"))["message"] == "Seul l'hôte peut faire ça."
    await french.close()
    await english.close()


@pytest.mark.django_db
def test_going_live_twice_is_refused_in_french(alice: User) -> None:
    from django.test import Client
    from django.urls import reverse

    from rooms.actions import create_room

    create_room(host=alice, title="First")
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(alice)
    page = client.post(reverse("rooms:create"), {"title": "Second"})
    assert page.status_code == 409
    assert "Vous êtes déjà en live dans « First »." in page.content.decode()
    assert ">Y retourner</a>" in page.content.decode()
