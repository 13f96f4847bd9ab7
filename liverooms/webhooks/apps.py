from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "liverooms.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Subscribe the outbox to the rooms' stream: rooms publishes, and never imports webhooks."""
        from liverooms import metrics, process
        from liverooms.webhooks import delivery, outbox
        from rooms.events import register_listener

        outbox.connect_signals()
        register_listener(outbox.on_events, on_redact=outbox.on_redacted)
        process.on_reset(outbox.forget_subscribers)  # endpoints of a rolled-back test are gone
        metrics.register_webhook_backlog(delivery.backlog)  # /metrics' webhook backlog
