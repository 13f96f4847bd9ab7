from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from media.relay import RelayStats


class MediaConfig(AppConfig):
    """The WebRTC side: WHIP publish, WHEP watch and the per-room aiortc relay."""

    name = "media"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from liverooms import metrics
        from media import replays, speaking_time
        from media.ice import check_settings
        from media.recording import live
        from media.recording.actions import on_switch
        from media.recording.recovery import on_process_start
        from rooms.pages import register_page, register_recap
        from rooms.replay import register_recordings
        from rooms.snapshot import register_state

        check_settings()
        metrics.register_relays(_relay_stats)  # the relays' figures in /metrics (liverooms.metrics)
        # the live room's REC indicator and the host's switch (media.recording.live)
        register_page(live.page_part)
        register_state(live.add_to_state)
        on_switch(live.announce)
        register_recordings(replays)  # the replay page's files and who may watch them (rooms.replay)
        register_recap(speaking_time.recap)  # the host's talk time per seat, after the live
        on_process_start()  # recordings a killed process left open: repaired once the server runs


async def _relay_stats() -> RelayStats:
    from media.services import relays

    return await relays().stats()
