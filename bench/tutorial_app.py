"""Reference server for bench/fanout.py: the Channels tutorial's chat pattern.

Serve it with `daphne tutorial_app:application`, run in the project root with bench/ on
PYTHONPATH (fanout.py does). Django is set up with the liverooms settings (so the same in-memory
channel layer and session auth), but the routing is its own: one consumer per socket,
`group_add` of its channel on connect, a posted comment `group_send`-ed to the room group, and a
per-consumer handler that `send_json`s it to its own viewer. Comments get an id here (no
database). Reactions are counted in the process and sent to the group as one `reactions`
message every 200 ms, so the reference writes the same frames as liverooms (`room.state`,
`comment.created`, `reactions`, `ack`) under the same load.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import Counter
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liverooms.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.layers import BaseChannelLayer, get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

TICK = 0.2  # seconds between reaction flushes, as in liverooms

_ids = itertools.count(1)
_tallies: dict[str, Counter[str]] = {}
_tickers: dict[str, asyncio.Task[None]] = {}


async def _flush_reactions(layer: BaseChannelLayer, group: str) -> None:
    while True:
        await asyncio.sleep(TICK)
        tally = _tallies.get(group)
        if tally:
            counts, _tallies[group] = dict(tally), Counter()
            await layer.group_send(group, {"type": "chat.reactions", "counts": counts})


class ChatConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    group = ""

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        self.group = f"chat_{slug}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        if self.group not in _tickers:
            _tickers[self.group] = asyncio.create_task(_flush_reactions(get_channel_layer(), self.group))
        user = self.scope.get("user")
        you = {"id": user.pk, "username": user.username} if user is not None and user.is_authenticated else None
        await self.send_json({"type": "room.state", "seq": 0, "room": {"slug": slug}, "you": {"user": you}})

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "comment.post":
            comment_id = next(_ids)
            user = self.scope.get("user")
            author = {"id": user.pk, "username": user.username} if user is not None and user.is_authenticated else None
            comment = {"id": comment_id, "user": author, "text": str(content.get("text", ""))}
            await self.channel_layer.group_send(self.group, {"type": "chat.comment", "comment": comment})
            await self.send_json({"type": "ack", "ref": content.get("ref"), "comment_id": comment_id})
        elif kind == "reaction.send":
            _tallies.setdefault(self.group, Counter())[str(content.get("kind"))] += 1
        else:
            await self.send_json({"type": "error", "code": "bad_request", "ref": content.get("ref")})

    async def chat_comment(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "comment.created", "seq": event["comment"]["id"], "comment": event["comment"]})

    async def chat_reactions(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "reactions", "counts": event["counts"]})


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([path("ws/rooms/<slug:slug>/", ChatConsumer.as_asgi())]))
        ),
    }
)
