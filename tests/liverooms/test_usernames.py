"""Issue #11: nobody signs up as a look-alike of an existing user."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from liverooms.usernames import SKELETON, skeleton, skeleton_sql

pytestmark = pytest.mark.django_db

PASSWORD = "a-good-long-pass"


def sign_up(client: Client, username: str) -> tuple[int, str]:
    page = client.post(reverse("signup"), {"username": username, "password1": PASSWORD, "password2": PASSWORD})
    return page.status_code, page.content.decode()


@pytest.mark.parametrize(
    ("username", "says"),
    [
        ("Alice", "A user with that username already exists."),
        ("ALICE", "A user with that username already exists."),
        ("a1ice", "looks too much like @alice"),
        ("AIice", "looks too much like @alice"),
        ("al.ice", "looks too much like @alice"),
        ("a_l-i_c_e", "looks too much like @alice"),
        ("\u0430lice", "only the letters a to z"),  # Cyrillic a
        ("al\u200bice", "only the letters a to z"),  # zero-width space
        ("alicé", "only the letters a to z"),
        ("\uff41\uff4c\uff49\uff43\uff45", "A user with that username already exists."),  # full-width
    ],
)
def test_it_refuses_a_lookalike_of_an_existing_user(client: Client, alice: User, username: str, says: str) -> None:
    status, page = sign_up(client, username)
    assert status == 400
    assert says in page
    assert list(User.objects.values_list("username", flat=True)) == ["alice"]


@pytest.mark.parametrize(
    ("taken", "lookalike"),
    [("mary", "rnary"), ("willow", "vvillow"), ("bob0", "BOBO"), ("l.i.l", "iii"), ("dj-x", "d_jx")],
)
def test_it_refuses_the_other_ascii_lookalikes(client: Client, taken: str, lookalike: str) -> None:
    User.objects.create_user(username=taken, password=PASSWORD)
    status, page = sign_up(client, lookalike)
    assert status == 400
    assert f"looks too much like @{taken}" in page


@pytest.mark.parametrize("username", ["", "...", "a b", "dave@home", "x" * 31])
def test_it_refuses_names_that_are_not_names(client: Client, username: str) -> None:
    status, _ = sign_up(client, username)
    assert status == 400
    assert not User.objects.exists()


@pytest.mark.parametrize("username", ["alicia", "bob", "dave.smith", "Zoe_99", "x" * 30])
def test_it_still_lets_distinct_names_sign_up(client: Client, alice: User, username: str) -> None:
    status, _ = sign_up(client, username)
    assert status == 302
    assert User.objects.filter(username=username).exists()


def test_the_sql_skeleton_matches_the_python_one(db: None) -> None:
    """The check compares a name's Python skeleton with the stored names' SQL skeletons: both
    must fold the same way, on SQLite and PostgreSQL, overlapping and repeated patterns too."""
    names = ["A1ice", "rnrn", "vvv", "rrnn", "i|1l", "O0o.", "-_.x", "Vv_V", "rn.m", "CamelCase9"]
    for name in names:
        User.objects.create(username=name)
    stored = dict(User.objects.annotate(folded=skeleton_sql()).values_list("username", "folded"))
    assert stored == {name: skeleton(name) for name in names}
    assert all(new.isascii() for _, new in SKELETON)
