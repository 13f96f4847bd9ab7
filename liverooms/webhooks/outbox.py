"""Record events for webhooks inside the transaction of the change they describe.

The outbox listens to the rooms' stream (`on_events`, registered with rooms.events from
WebhooksConfig.ready): every stream event and notice of a type some endpoint receives is recorded
in the transaction that makes it, and withdrawn with it (`redact`). The live path pays one cached
lookup per event when nobody subscribed, and a few inserts when somebody did; posting happens in
Celery workers, after commit (liverooms.webhooks.delivery).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save

from liverooms.webhooks.models import EVENT_TYPES, Delivery, Endpoint, Event

if TYPE_CHECKING:
    from rooms.models import Room

TYPES = frozenset(name for name, _label in EVENT_TYPES)
# How long a process trusts its list of endpoints; a change made in another process (an
# operator adding an endpoint) reaches this one within that time. Saves in this process clear it.
SUBSCRIBERS_TTL = 5.0

_subscribers: tuple[float, list[tuple[int, frozenset[str]]]] | None = None


def forget_subscribers(**_kwargs: Any) -> None:
    global _subscribers
    _subscribers = None


def connect_signals() -> None:
    post_save.connect(forget_subscribers, sender=Endpoint, dispatch_uid="webhooks-forget-subscribers")


def subscribers(event_type: str) -> list[int]:
    """The active endpoints that receive `event_type`."""
    global _subscribers
    now = time.monotonic()
    if _subscribers is None or now - _subscribers[0] > SUBSCRIBERS_TTL:
        rows = Endpoint.objects.filter(is_active=True).values_list("pk", "event_types")
        _subscribers = (now, [(pk, frozenset(types or ())) for pk, types in rows])
    return [pk for pk, types in _subscribers[1] if event_type in types]


def on_events(room: Room, events: Sequence[dict[str, Any]]) -> None:
    """A room's stream events (`{type, seq, **fields}`) or a notice (`{type, **fields}`), heard
    inside the change's transaction: record each one some active endpoint receives, with its
    fields as `data` and its `seq` (None for a notice), in one INSERT of events and one of
    deliveries however many there are (a bulk removal is hundreds); after commit, ask a worker to
    deliver (one task per endpoint)."""
    wanted = [
        (event, receivers) for event in events if event["type"] in TYPES and (receivers := subscribers(event["type"]))
    ]
    if not wanted:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("webhook events must be recorded in the transaction of the change they describe")
    recorded = Event.objects.bulk_create(
        [Event(type=event["type"], room=room, seq=event.get("seq"), data=_data(event)) for event, _ in wanted]
    )
    room_key = room.pk
    window = timedelta(seconds=settings.WEBHOOK_RETRY_FOR)
    Delivery.objects.bulk_create(
        [
            Delivery(endpoint_id=pk, event=event, room_id_key=room_key, retry_until=event.created_at + window)
            for event, (_, receivers) in zip(recorded, wanted, strict=True)
            for pk in receivers
        ]
    )
    endpoint_ids = sorted({pk for _, receivers in wanted for pk in receivers})
    # robust: a broker that is down must not turn a committed change into an error; the
    # deliveries are stored, and the periodic sweep (tasks.deliver_due) sends them once it is back.
    transaction.on_commit(lambda: _kick(endpoint_ids, room_key), robust=True)


def _data(event: dict[str, Any]) -> dict[str, Any]:
    """An event's fields, as a webhook's `data`: all but its `type` and `seq`, in their order."""
    return {key: value for key, value in event.items() if key != "type" and key != "seq"}


def on_redacted(room: Room, payloads: dict[int, dict[str, Any]]) -> None:
    """Stream events of the room were redacted (rooms.events.redact): so are their payloads."""
    redact(room=room, payloads=payloads)


def redact(*, room: Room, payloads: dict[int, dict[str, Any]]) -> int:
    """Replace the recorded data of the room's stream events at these `seq`s (a removed comment's
    `comment.created`): a delivery sent or retried from now on carries the redacted data."""
    if not payloads:
        return 0
    events = list(Event.objects.filter(room=room, seq__in=list(payloads)).only("pk", "seq"))
    for event in events:
        event.data = payloads[event.seq]  # type: ignore[index]
    Event.objects.bulk_update(events, ["data"], batch_size=500)
    return len(events)


def _kick(endpoint_ids: list[int], room_key: int) -> None:
    from liverooms.webhooks.tasks import queue_delivery

    for endpoint_id in endpoint_ids:
        queue_delivery(endpoint_id, room_key)  # one queued task per (endpoint, room) at a time
