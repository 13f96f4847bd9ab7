"""Issue #12: sign-up and log-in floods get 429 + Retry-After early; other people still get in."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-good-long-pass"


def sign_up(client: Client, username: str, address: str, **meta: str) -> Any:
    return client.post(
        reverse("signup"),
        {"username": username, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        REMOTE_ADDR=address,
        **meta,
    )


def log_in(client: Client, username: str, password: str, address: str, url: str = "") -> Any:
    return Client().post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def assert_paused(page: Any, says: str) -> None:
    assert page.status_code == 429
    assert int(page["Retry-After"]) >= 1
    text = page.content.decode()
    assert says in text
    assert "Try again in" in text


def test_it_stops_a_sign_up_flood_from_one_address(settings: Any) -> None:
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 10
    started = time.monotonic()
    answers = [sign_up(Client(), f"bot{n}", "203.0.113.66").status_code for n in range(40)]
    took = time.monotonic() - started
    assert answers == [302] * 10 + [429] * 30
    assert User.objects.count() == 10
    refused = sign_up(Client(), "bot40", "203.0.113.66")
    assert_paused(refused, "Signing up from your network is paused")
    # an hourly bucket of 10 refills one every 6 minutes
    assert 300 <= int(refused["Retry-After"]) <= 360
    assert took < 10

    assert sign_up(Client(), "dave", "198.51.100.7").status_code == 302


def test_a_spoofed_x_forwarded_for_does_not_escape_the_sign_up_limit(settings: Any) -> None:
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 3
    settings.BEHIND_PROXY = False
    answers = [
        sign_up(Client(), f"bot{n}", "203.0.113.66", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}").status_code for n in range(6)
    ]
    assert answers == [302] * 3 + [429] * 3


def test_behind_a_proxy_sign_ups_count_per_client_not_per_proxy(settings: Any) -> None:
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 3
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXIES = []
    proxy = "10.0.0.2"
    flood = [
        sign_up(Client(), f"bot{n}", proxy, HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.66").status_code
        for n in range(5)
    ]
    assert flood == [302] * 3 + [429] * 2
    assert sign_up(Client(), "dave", proxy, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 302


def test_a_mistyped_sign_up_is_not_refused_as_a_flood(settings: Any) -> None:
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 10
    client = Client()
    wrong = client.post(
        reverse("signup"), {"username": "dave", "password1": NEW_PASSWORD, "password2": "typo"}, REMOTE_ADDR="1.1.1.1"
    )
    assert wrong.status_code == 400
    assert sign_up(client, "dave", "1.1.1.1").status_code == 302


def test_it_stops_guessing_one_account_from_many_addresses(alice: User, bob: User, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 5
    answers = [log_in(Client(), "alice", f"guess-{n}", f"203.0.113.{n}").status_code for n in range(8)]
    assert answers == [200] * 5 + [429] * 3
    # the right password is refused too while the pause lasts: a guess must not be confirmed
    refused = log_in(Client(), "alice", PASSWORD, "198.51.100.7")
    assert_paused(refused, "Logging in to this account is paused")
    assert 890 <= int(refused["Retry-After"]) <= 900  # the window opened at the first failure
    # a full-width spelling is the same account to the log-in form, and to the throttle
    assert log_in(Client(), "\uff41lice", PASSWORD, "198.51.100.8").status_code == 429
    # other accounts are untouched
    assert log_in(Client(), "bob", PASSWORD, "198.51.100.7").status_code == 302


def test_a_successful_log_in_resets_nothing(alice: User, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    assert log_in(Client(), "alice", "guess-1", "203.0.113.1").status_code == 200
    assert log_in(Client(), "alice", "guess-2", "203.0.113.2").status_code == 200
    assert log_in(Client(), "alice", PASSWORD, "198.51.100.7").status_code == 302
    assert log_in(Client(), "alice", "guess-3", "203.0.113.3").status_code == 200
    assert log_in(Client(), "alice", PASSWORD, "198.51.100.7").status_code == 429


def test_it_stops_one_address_guessing_across_accounts(alice: User, settings: Any) -> None:
    settings.LOGINS_PER_ADDRESS_PER_HOUR = 20
    settings.LOGIN_FAILURES_PER_ACCOUNT = 100
    answers = [log_in(Client(), f"user{n}", "guess", "203.0.113.66").status_code for n in range(25)]
    assert answers == [200] * 20 + [429] * 5
    refused = log_in(Client(), "alice", PASSWORD, "203.0.113.66")
    assert_paused(refused, "Logging in from your network is paused")
    # alice elsewhere still logs in, and her account is not locked by that address's guesses
    assert log_in(Client(), "alice", PASSWORD, "198.51.100.7").status_code == 302


def test_the_admin_log_in_is_throttled_too(mod: User, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    url = reverse("admin:login")
    answers = [log_in(Client(), "mod", f"guess-{n}", f"203.0.113.{n}", url).status_code for n in range(5)]
    assert answers == [200] * 3 + [429] * 2
    assert log_in(Client(), "mod", PASSWORD, "198.51.100.7", url).status_code == 429
    assert log_in(Client(), "mod", PASSWORD, "198.51.100.7").status_code == 429  # the same account


def test_a_normal_user_logs_in_after_a_typo(alice: User, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 5
    assert log_in(Client(), "alice", "typo", "198.51.100.7").status_code == 200
    page = log_in(Client(), "alice", PASSWORD, "198.51.100.7")
    assert page.status_code == 302


def test_an_attacker_pausing_an_account_does_not_lock_out_its_owners_browser(alice: User, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    owners_browser = Client()
    assert owners_browser.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302
    owners_browser.post(reverse("logout"))
    answers = [log_in(Client(), "alice", f"guess-{n}", f"203.0.113.{n}").status_code for n in range(5)]
    assert answers == [200] * 3 + [429] * 2
    assert log_in(Client(), "alice", PASSWORD, "198.51.100.7").status_code == 429  # a new browser waits
    # her own browser has a window of its own, and still logs in
    again = owners_browser.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert again.status_code == 302


def test_a_device_cookie_is_only_good_for_its_own_account(alice: User, bob: User, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    bobs_browser = Client()
    assert bobs_browser.post(reverse("login"), {"username": "bob", "password": PASSWORD}).status_code == 302
    bobs_browser.post(reverse("logout"))
    for n in range(2):
        log_in(Client(), "alice", f"guess-{n}", f"203.0.113.{n}")
    refused = bobs_browser.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 429
    # and a forged cookie counts for nothing
    forged = Client()
    forged.cookies["liverooms_device"] = "mine:" + "0" * 32
    assert forged.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 429
