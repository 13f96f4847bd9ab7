from django.apps import AppConfig


class MediaConfig(AppConfig):
    """The WebRTC side: WHIP publish, WHEP watch and the per-room aiortc relay."""

    name = "media"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from media.ice import check_settings
        from media.recording.recovery import on_process_start

        check_settings()
        on_process_start()  # recordings a killed process left open: repaired once the server runs
