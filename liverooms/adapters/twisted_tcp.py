"""Twisted: the send buffer of a TCP connection, which rooms/wire.py writes past when it is empty."""

from __future__ import annotations

from liverooms.adapters import Adapter, attribute

_CONNECTION = "twisted.internet.tcp:Connection"

ADAPTER = Adapter(
    package="Twisted",
    used_by="rooms/wire.py (DirectSocket.write: send at once when nothing is queued, else queue behind it)",
    fallback="room frames go through ASGI send (correct, about 2.4x the CPU per delivery)",
    needs=[
        attribute(_CONNECTION, "dataBuffer"),
        attribute(_CONNECTION, "offset"),
        attribute(_CONNECTION, "_tempDataLen"),
        attribute(_CONNECTION, "_writeDisconnected"),
        attribute(_CONNECTION, "connected"),
        attribute(_CONNECTION, "socket"),
        attribute(_CONNECTION, "write"),
        attribute(_CONNECTION, "abortConnection"),
    ],
)
