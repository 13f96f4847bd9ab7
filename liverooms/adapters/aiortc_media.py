"""aiortc: the internals media/ leans on (its lean RTP loop, the pass-through sink and packers, the
relay's RTCP hooks, DTLS diagnostics). media/ is its own engineer's: this adapter only checks and
warns at start-up; `usable()` is there for media/ to take aiortc's public path when it is False
(see tests/liverooms/test_canary.py for who uses what)."""

from __future__ import annotations

from liverooms.adapters import Adapter, Need, attribute, defined

_SENDER, _RECEIVER = "aiortc.rtcrtpsender:RTCRtpSender", "aiortc.rtcrtpreceiver:RTCRtpReceiver"
_DTLS = "aiortc.rtcdtlstransport:RTCDtlsTransport"
_SENDER_SLOTS = (
    "rtp_started",
    "rtp_exited",
    "rtp_header_extensions_map",
    "mid",
    "rtp_history",
    "track",
    "encoder",
    "ntp_timestamp",
    "rtp_timestamp",
    "octet_count",
    "packet_count",
)

# (the media module that relies on it, what)
USES: list[tuple[str, Need]] = [
    ("media/rtpsend.py", attribute(_SENDER, "_run_rtp")),
    ("media/rtpsend.py", attribute(_SENDER, "_next_encoded_frame")),
    ("media/rtpsend.py", attribute(_SENDER, "_ssrc")),
    *(("media/rtpsend.py", attribute(_SENDER, f"_RTCRtpSender__{slot}")) for slot in _SENDER_SLOTS),
    ("media/rtpsend.py", attribute("aiortc.rtp:HeaderExtensionsMap", "_HeaderExtensionsMap__ids")),
    ("media/rtpsend.py", attribute(_DTLS, "_send_rtp")),
    ("media/rtpsend.py", defined("aiortc.rtcrtpsender:random_sequence_number")),
    ("media/rtpsend.py", defined("aiortc.rtp:RTP_HISTORY_SIZE")),
    ("media/rtpsend.py", defined("aiortc.rtp:HeaderExtensions")),
    ("media/rtpsend.py", defined("aiortc.rtp:pack_header_extensions")),
    ("media/rtpsend.py", defined("aiortc.utils:random32")),
    ("media/rtpsend.py", defined("aiortc.clock:current_ntp_time")),
    ("media/passthrough.py", attribute(_RECEIVER, "_RTCRtpReceiver__decoder_queue")),
    ("media/passthrough.py", attribute(_RECEIVER, "_RTCRtpReceiver__decoder_thread")),
    ("media/passthrough.py", attribute(_SENDER, "_RTCRtpSender__encoder")),
    ("media/relay.py", attribute(_SENDER, "_stream_id")),
    ("media/relay.py", attribute(_SENDER, "_send_keyframe")),
    ("media/relay.py", attribute(_RECEIVER, "_handle_rtcp_packet")),
    ("media/relay.py", attribute(_RECEIVER, "_handle_rtp_packet")),  # the audio level (media.speaking)
    ("media/relay.py", attribute(_RECEIVER, "_send_rtcp_pli")),
    ("media/vp8.py", attribute("aiortc.codecs.vpx:Vp8Encoder", "_packetize")),
    ("media/h264.py", attribute("aiortc.codecs.h264:H264Encoder", "_packetize")),
    ("media/h264.py", attribute("aiortc.codecs.h264:H264Encoder", "_split_bitstream")),
    ("media/dtls.py", attribute(_DTLS, "_ssl")),
]

ADAPTER = Adapter(
    package="aiortc",
    used_by="media/ (rtpsend, passthrough, relay, vp8, h264, dtls)",
    fallback="none yet in media/: the relay will fail where it uses them; keep the aiortc pin",
    needs=[need for _, need in USES],
)
