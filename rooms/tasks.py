"""Celery tasks of the rooms app: they take ids (or nothing) and call rooms.actions."""

from celery import shared_task

from rooms import actions


@shared_task(name="rooms.tasks.end_abandoned_rooms")
def end_abandoned_rooms() -> int:
    """Periodic sweep (Celery beat): end live rooms whose host has been gone too long."""
    return actions.end_abandoned_rooms()
