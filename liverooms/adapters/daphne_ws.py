"""daphne: what rooms/wire.py reads of its websocket connections to write frames itself."""

from __future__ import annotations

import inspect

from liverooms.adapters import Adapter, attribute, check, defined


def _send_is_a_partial_with_the_protocol() -> bool:
    """daphne hands each application `send=partial(self.handle_reply, protocol)`: DirectSocket.find
    looks for the protocol among that partial's arguments."""
    from daphne.server import Server

    source = inspect.getsource(Server.create_application)
    return "partial(self.handle_reply, protocol)" in source


ADAPTER = Adapter(
    package="daphne",
    used_by="rooms/wire.py (DirectSocket: room frames written straight to the TCP connection)",
    fallback="room frames go through ASGI send (correct, about 2.4x the CPU per delivery)",
    needs=[
        defined("daphne.ws_protocol:WebSocketProtocol"),
        check(
            "daphne.server.Server.create_application: send=partial(handle_reply, protocol)",
            _send_is_a_partial_with_the_protocol,
        ),
        attribute("daphne.ws_protocol:WebSocketProtocol", "transport"),
        attribute("daphne.ws_protocol:WebSocketProtocol", "client_addr"),
    ],
)
