"""autobahn: the websocket state and compression flag rooms/wire.py reads (daphne's protocol is
an autobahn WebSocketServerProtocol)."""

from __future__ import annotations

from liverooms.adapters import Adapter, attribute, check


def _daphne_protocol_is_autobahns() -> bool:
    from autobahn.websocket.protocol import WebSocketProtocol as AutobahnProtocol
    from daphne.ws_protocol import WebSocketProtocol

    return issubclass(WebSocketProtocol, AutobahnProtocol)


ADAPTER = Adapter(
    package="autobahn",
    used_by="rooms/wire.py (DirectSocket: is the socket open, is it compressed)",
    fallback="room frames go through ASGI send (correct, about 2.4x the CPU per delivery)",
    needs=[
        attribute("autobahn.websocket.protocol:WebSocketProtocol", "STATE_OPEN"),
        attribute("autobahn.websocket.protocol:WebSocketProtocol", "state"),
        attribute("autobahn.websocket.protocol:WebSocketProtocol", "_perMessageCompress"),
        check("daphne.ws_protocol.WebSocketProtocol is an autobahn WebSocketProtocol", _daphne_protocol_is_autobahns),
    ],
)
