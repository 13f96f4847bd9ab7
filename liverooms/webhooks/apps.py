from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "liverooms.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from liverooms import process
        from liverooms.webhooks import outbox

        outbox.connect_signals()
        process.on_reset(outbox.forget_subscribers)  # endpoints of a rolled-back test are gone
