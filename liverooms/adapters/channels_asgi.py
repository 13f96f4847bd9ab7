"""channels: what rooms/wire.py and rooms/consumers.py rely on beyond its documented API."""

from __future__ import annotations

import inspect

from liverooms.adapters import Adapter, attribute, check, defined


def _unknown_alias_is_no_layer() -> bool:
    """RoomConsumer.channel_layer_alias names no layer: channels must then give the consumer none
    (no channel per socket) rather than fail."""
    from channels.layers import get_channel_layer

    return get_channel_layer("liverooms.no-channel-per-socket") is None


def _consumer_dispatches_through_self_dispatch() -> bool:
    """RoomConsumer overrides AsyncConsumer.dispatch (skipping its per-message connection-closing
    hop): channels' __call__ must still route every message through `self.dispatch`."""
    from channels.consumer import AsyncConsumer

    return "self.dispatch" in inspect.getsource(AsyncConsumer.__call__)


ADAPTER = Adapter(
    package="channels",
    used_by="rooms/wire.py (DirectSocket.find, through the session wrapper) and rooms/consumers.py",
    fallback="room frames go through ASGI send; RoomConsumer keeps channels' own dispatch",
    needs=[
        attribute("channels.sessions:InstanceSessionWrapper", "real_send"),
        defined("channels.consumer:get_handler_name"),
        attribute("channels.consumer:AsyncConsumer", "base_send"),
        check(
            "channels.consumer.AsyncConsumer.__call__ dispatches through self.dispatch",
            _consumer_dispatches_through_self_dispatch,
        ),
        check("channels.layers.get_channel_layer(unknown alias) is None", _unknown_alias_is_no_layer),
    ],
)
