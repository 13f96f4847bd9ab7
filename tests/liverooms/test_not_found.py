"""A missing page is ours: the site's header, a way back, the lives on now (#13)."""

from __future__ import annotations

import pytest
from django.test import Client

from rooms.models import Room

pytestmark = pytest.mark.django_db


def test_it_shows_a_branded_404_with_the_lives_on_now(client: Client, room: Room) -> None:
    page = client.get("/rooms/nosuchroom/")
    assert page.status_code == 404
    html = page.content.decode()
    assert 'class="brand"' in html
    assert "There is nothing here" in html
    assert f'href="/rooms/{room.slug}/"' in html


def test_it_speaks_french_when_asked(client: Client) -> None:
    page = client.get("/no/such/page/", headers={"accept-language": "fr"})
    assert page.status_code == 404
    assert '<html lang="fr"' in page.content.decode()
    assert "Il n'y a rien ici" in page.content.decode()
