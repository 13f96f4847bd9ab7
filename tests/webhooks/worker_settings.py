"""Settings for the Celery worker the webhook tests start: liverooms' own, with deliveries to
private addresses allowed (the test receiver listens on 127.0.0.1)."""

from liverooms.settings import *  # noqa: F403

WEBHOOK_ALLOW_PRIVATE = True
