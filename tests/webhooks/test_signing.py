"""A delivery's signature covers its timestamp: a captured body replayed with a fresh `t` fails."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from django.contrib.auth.models import User

from comments.actions import post_comment
from liverooms.webhooks import delivery
from liverooms.webhooks.models import Endpoint
from liverooms.webhooks.signing import SIGNATURE_HEADER, verify
from rooms.models import Room
from tests.webhooks.receiver import receiver

pytestmark = pytest.mark.django_db


def captured(room: Room, carol: User) -> tuple[Endpoint, bytes, str]:
    """One real delivery as its receiver saw it: the endpoint, the raw body, the signature header."""
    with receiver() as rx:
        hook = Endpoint.objects.create(url=rx.url, event_types=["comment.created"])
        post_comment(room=room, author=carol, text="hello")
        delivery.deliver_chain(hook.pk, room.pk)
    [got] = rx.received
    return hook, got.body, got.headers[SIGNATURE_HEADER]


def test_it_signs_the_timestamp_a_dot_and_the_raw_body(room: Room, carol: User) -> None:
    hook, body, header = captured(room, carol)
    match = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", header)
    assert match is not None
    t, v1 = match.groups()
    # What docs/webhooks.md tells a receiver to compute, written out independently.
    expected = hmac.new(hook.secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert v1 == expected
    assert verify(hook.secret, body, header) == int(t)


def test_a_replayed_body_with_a_new_timestamp_does_not_verify(room: Room, carol: User) -> None:
    hook, body, header = captured(room, carol)
    t = int(header.split(",")[0].removeprefix("t="))
    for fresh in (t + 600, t + 1, t - 1):
        replayed = re.sub(r"^t=\d+", f"t={fresh}", header)
        assert verify(hook.secret, body, replayed) is None
    assert verify(hook.secret, body, re.sub(r"^t=\d+", f"t=0{t}", header)) is None  # same number, other text


def test_a_header_without_a_usable_timestamp_does_not_verify(room: Room, carol: User) -> None:
    hook, body, header = captured(room, carol)
    v1 = header.split("v1=")[1]
    for bad in (f"v1={v1}", f"t=,v1={v1}", f"t=abc,v1={v1}", f"t=-1,v1={v1}", f"t=١٢,v1={v1}", ""):
        assert verify(hook.secret, body, bad) is None
