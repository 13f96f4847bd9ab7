"""Celery tasks of the rooms app: they take ids (or nothing) and call the rooms domain functions.
Each is idempotent: a broker may deliver a task twice, and a second run finds nothing to do."""

from __future__ import annotations

import dataclasses

from celery import shared_task

from rooms import actions, retention, seats, stats


@shared_task(name="rooms.tasks.sweep_abandoned")
def sweep_abandoned() -> dict[str, int]:
    """Periodic (Celery beat): end rooms abandoned by their host, free seats abandoned by guests."""
    return dataclasses.asdict(actions.sweep_abandoned())


@shared_task(name="rooms.tasks.expire_publishing")
def expire_publishing() -> int:
    """Periodic (Celery beat, with the sweep): turn off `publishing` on seats whose lease lapsed
    (the process relaying them died); each sends the usual `seat.updated`."""
    return seats.expire_publishing()


@shared_task(name="rooms.tasks.refresh_stats")
def refresh_stats(room_id: int) -> None:
    """Count one room's figures (comments, unique viewers) and announce a new viewer peak."""
    stats.refresh(room_id=room_id)


@shared_task(name="rooms.tasks.refresh_all_stats")
def refresh_all_stats() -> int:
    """Periodic: refresh the figures of live rooms and of rooms that ended since their last count."""
    room_ids = stats.rooms_to_refresh()
    for room_id in room_ids:
        stats.refresh(room_id=room_id)
    return len(room_ids)


@shared_task(name="rooms.tasks.prune")
def prune() -> dict[str, int]:
    """Periodic: drop stream events and viewer rows past their retention (rooms.retention)."""
    return dataclasses.asdict(retention.prune())
