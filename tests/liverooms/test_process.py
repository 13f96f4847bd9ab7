"""This process's state (liverooms.process): one copy per event loop, and one reset for all of it."""

from __future__ import annotations

import asyncio

from channels.layers import get_channel_layer
from django.conf import settings
from django.test import override_settings

from liverooms import process
from liverooms.ratelimit import take_token
from rooms.hub import Hubs, hubs


async def _hubs() -> Hubs:
    return hubs()


def test_each_event_loop_has_hubs_of_its_own() -> None:
    first, second = asyncio.run(_hubs()), asyncio.run(_hubs())
    assert first is not second


async def test_one_loop_keeps_its_hubs() -> None:
    assert hubs() is hubs()


async def test_a_reset_forgets_the_loops_state() -> None:
    before = hubs()
    process.reset()
    assert hubs() is not before


def test_a_reset_refills_the_in_process_buckets(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = ""  # one process: buckets in this process
    assert take_token("test-process", capacity=1, per_second=0.001)
    assert not take_token("test-process", capacity=1, per_second=0.001)
    process.reset()
    assert take_token("test-process", capacity=1, per_second=0.001)


def test_per_loop_state_outside_a_loop_is_none() -> None:
    state = process.PerLoop(dict)
    assert state.peek() is None


def test_a_reset_forgets_the_channel_layers_even_after_their_setting_changed() -> None:
    """Channels makes itself a new registry when CHANNEL_LAYERS changes (a test overriding it): the
    reset after that still gives the next loop fresh layers, not one shared with closed loops."""
    with override_settings(CHANNEL_LAYERS=settings.CHANNEL_LAYERS):
        pass
    layer = get_channel_layer()
    assert get_channel_layer() is layer
    process.reset()
    assert get_channel_layer() is not layer
