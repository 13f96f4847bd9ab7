"""Webhooks go to public addresses only: refused when an endpoint is saved, and again at the
address each attempt connects to (issue #12). No test here sends anything past loopback: every
refused URL is refused before any connection, and the only thing connected to is 127.0.0.1."""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from comments.actions import post_comment
from conftest import PASSWORD
from liverooms.webhooks import delivery, sender
from liverooms.webhooks.addresses import Refused, Target, check_url, parse, refusal
from liverooms.webhooks.models import Attempt, Delivery, Endpoint
from rooms.models import Room
from tests.webhooks.receiver import receiver, tls_listener

pytestmark = pytest.mark.django_db

# From issue #12, and the usual ways around a naive check. None of them is ever connected to.
REFUSED_URLS = [
    "http://127.0.0.1:6379/",
    "http://localhost:5432/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8000/hook",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/hook",
    "http://0.0.0.0/",
    "http://172.16.0.1/hook",
    "http://100.64.0.1/hook",  # shared (carrier-grade NAT)
    "http://224.0.0.1/hook",  # multicast
    "http://240.0.0.1/hook",  # reserved
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://[::ffff:a9fe:a9fe]/hook",  # IPv4-mapped metadata
    "http://[64:ff9b::a00:5]/hook",  # NAT64 of 10.0.0.5
    "http://[fe80::1]/hook",
    "http://[fd00:ec2::254]/latest",
    "http://[::]/",
    "http://2130706433/",  # 127.0.0.1 as one number
    "http://127.1/",
    "http://0x7f.0.0.1/",
    "https://127.0.0.1./hook",
]


@pytest.fixture
def strict(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False


@pytest.fixture
def operator(client: Client, django_user_model: type[User]) -> Client:
    django_user_model.objects.create_superuser("root", password=PASSWORD)
    assert client.login(username="root", password=PASSWORD)
    return client


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_it_refuses_to_save_an_endpoint_on_a_private_address(strict: None, url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Endpoint(url=url, event_types=["room.ended"]).full_clean()
    assert "public addresses only" in str(refused.value.message_dict["url"])


def test_the_admin_form_says_why(strict: None, operator: Client) -> None:
    page = operator.post(
        reverse("admin:webhooks_endpoint_add"),
        {"url": "http://localhost:5432/x", "event_types": ["room.ended"], "secret": "s3cret-value", "is_active": "on"},
    )
    assert page.status_code == 200
    assert "localhost resolves to 127.0.0.1, a loopback address" in page.content.decode()
    assert not Endpoint.objects.exists()


def test_with_private_addresses_allowed_they_are_saved(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = True
    problems = {}
    for url in REFUSED_URLS:
        try:
            Endpoint(url=url, event_types=["room.ended"]).full_clean()  # no look-up, no refusal
        except ValidationError as invalid:
            problems[url] = invalid.message_dict
    # A few are not URLs Django takes at all ("http://127.1/"); none is refused for its address.
    assert set(problems) <= {"http://2130706433/", "http://127.1/", "http://0x7f.0.0.1/", "https://127.0.0.1./hook"}
    assert all(problem == {"url": ["Enter a valid URL."]} for problem in problems.values())


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("169.254.1.1", "a link-local address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("192.0.0.192", "a cloud metadata address"),
        ("192.0.0.1", "a private address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104
        ("239.255.255.250", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:10.0.0.1", "a private address in IPv6 form"),
        ("2002:7f00:1::", "a loopback address in IPv6 form"),  # 6to4 of 127.0.0.1
        ("2001:db8::1", "a private address"),  # documentation
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_refusal_names_what_an_address_is(address: str, why: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == why


def test_a_saved_endpoint_on_a_private_address_is_refused_when_connecting(
    strict: None, room: Room, carol: User
) -> None:
    """Saved before the check existed (or its name re-pointed since): the attempt checks again
    and never connects."""
    with receiver() as rx:
        for url in (rx.url, rx.url.replace("127.0.0.1", "localhost")):
            Delivery.objects.all().delete()
            hook = Endpoint.objects.create(url=url, event_types=["comment.created"])
            post_comment(room=room, author=carol, text="hi")
            run = delivery.deliver_chain(hook.pk, room.pk)
            assert run.delivered == 0
            attempt = Attempt.objects.filter(delivery__endpoint=hook).get()
            assert attempt.status_code is None
            assert attempt.error.startswith("Refused: ")
            assert "a loopback address: webhooks go to public addresses only" in attempt.error
    assert rx.received == []


def test_an_attempt_connects_to_the_checked_address_and_names_the_host(room: Room, carol: User) -> None:
    """The sender connects to the address it was given, never looking the name up again (so a
    DNS answer that changes after the check cannot redirect it); the name goes in Host."""
    with receiver() as rx:
        port = int(rx.url.rsplit(":", 1)[1].split("/")[0])
        where = Target(
            https=False,
            host="hooks.example.com",  # never resolved: no DNS query leaves this test
            port=port,
            path="/hooks?x=1",
            addresses=[ipaddress.ip_address("127.0.0.1")],
        )
        answer = sender.send(where, b"{}", {"Content-Type": "application/json"}, timeout=5)
    assert answer == sender.Answer(204, "")
    [got] = rx.received
    assert got.headers["Host"] == f"hooks.example.com:{port}"
    assert got.body == b"{}"


def test_check_url_refuses_other_schemes_even_when_private_is_allowed(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = True
    for url in ("ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "http:///nohost"):
        with pytest.raises(Refused):
            check_url(url)


def test_refusal_takes_no_time(strict: None) -> None:
    started = time.monotonic()
    answer = sender.post("http://169.254.169.254/latest/meta-data/", b"{}", {}, timeout=5)
    assert answer.status_code is None
    assert answer.summary == (
        "Refused: 169.254.169.254 is a cloud metadata address: webhooks go to public addresses only."
    )
    assert time.monotonic() - started < 0.5


def test_https_checks_the_certificate_for_the_host_name_at_the_pinned_address() -> None:
    """TLS goes to the checked address but names (SNI) and verifies the URL's host."""
    with tls_listener("hooks.example.com") as tls:
        where = Target(
            https=True,
            host="hooks.example.com",
            port=tls.port,
            path="/hooks",
            addresses=[ipaddress.ip_address("127.0.0.1")],
        )
        answer = sender.send(where, b"{}", {}, timeout=5)
    assert answer.status_code is None
    assert answer.summary.startswith("TLS: ")
    assert "self-signed certificate" in answer.summary  # refused: nobody vouches for it
    assert tls.server_names == ["hooks.example.com"]


def test_a_url_is_parsed_into_what_the_request_says() -> None:
    assert parse("https://Bücher.example./hooks/ä b?x=1&y=ü") == (
        True,
        "xn--bcher-kva.example",
        443,
        "/hooks/%C3%A4%20b?x=1&y=%C3%BC",
    )
    assert parse("http://[::1]:8000") == (False, "::1", 8000, "/")
    with pytest.raises(Refused):
        parse("http://example.com:99999/")
