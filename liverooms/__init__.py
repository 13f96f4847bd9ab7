"""The liverooms project package: settings, ASGI/URL routing and the Celery app."""

from liverooms.celery import app as celery_app

__all__ = ["celery_app"]
