"""The client address per-address limits count against: REMOTE_ADDR, or the rightmost
X-Forwarded-For hop that is not our own proxy when BEHIND_PROXY is on."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from liverooms.clients import client_key


def key(remote: str | None, forwarded: str | None = None) -> str:
    meta = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    request = RequestFactory().get("/", **meta)
    if remote is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote
    return client_key(request)


def test_it_ignores_x_forwarded_for_when_not_behind_a_proxy(settings: Any) -> None:
    settings.BEHIND_PROXY = False
    assert key("198.51.100.7", "203.0.113.1") == "198.51.100.7"


def test_it_takes_the_hop_our_proxy_wrote_not_the_ones_the_client_wrote(settings: Any) -> None:
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXIES = []
    assert key("10.0.0.2", "1.2.3.4, 203.0.113.9") == "203.0.113.9"
    assert key("10.0.0.2", "garbage, 203.0.113.9") == "203.0.113.9"
    assert key("10.0.0.2", "203.0.113.9:5123") == "203.0.113.9"


def test_it_walks_past_trusted_proxies(settings: Any) -> None:
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.10"]
    assert key("10.0.0.2", "1.2.3.4, 203.0.113.9, 192.0.2.10, 10.1.1.1") == "203.0.113.9"


def test_it_falls_back_to_the_peer(settings: Any) -> None:
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXIES = []
    assert key("10.0.0.2") == "10.0.0.2"
    assert key("10.0.0.2", "not-an-address") == "10.0.0.2"
    assert key(None) == "unknown"


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
    ],
)
def test_it_counts_ipv6_per_64(settings: Any, remote: str, expected: str) -> None:
    settings.BEHIND_PROXY = False
    assert key(remote) == expected


def test_a_bad_trusted_proxy_is_named(settings: Any) -> None:
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.internal"]
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        key("10.0.0.2", "203.0.113.9")
