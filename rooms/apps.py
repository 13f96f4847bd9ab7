from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The room socket's fast paths lean on daphne, autobahn, Twisted and channels internals:
        # check them now, and say loudly (WARNING) which fall back to the public path.
        from liverooms import metrics
        from liverooms.adapters import probe_all
        from rooms.hub import read_figures

        probe_all()
        metrics.register_hubs(read_figures)  # the hubs' figures in /metrics
