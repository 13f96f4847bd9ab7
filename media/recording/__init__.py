"""Recording every live without decoding, and what becomes of the files afterwards.

- `recorder`: taps the relay's encoded frames (one `RoomRecorder` per room and process) and hands
  them to a writer thread through a bounded queue; the relay never waits on disk.
- `writer`: remuxes one seat's publishing period into WebM (VP8 + Opus) or fragmented MP4
  (H.264 + Opus) with PyAV, flushing every RECORDING_FLUSH_SECONDS.
- `recovery`: closes recordings left open by a dead process and makes them playable.
- `compose`: the one transcode, a 4-up MP4 of the whole live (Celery).
- `retention`: deletes replays older than REPLAY_DAYS.
- `storage`: where files live (Django's default storage; a local spool when it is not a folder).
- `actions`: every change to a replay. The read side is `media.replays`.
"""
