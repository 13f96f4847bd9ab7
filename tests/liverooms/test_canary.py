"""The canary: every private name of another package that liverooms relies on, checked against the
installed packages. When a pin moves (docs/development.md, "Pins") and this fails, it names what
changed and which module leans on it; the adapters in liverooms/adapters/ then fall back to the
public path at start-up with a WARNING, and the media list below says which aiortc internals
media/ must be adapted for.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from liverooms.adapters import Adapter, Need, aiortc_media, all_adapters, attribute, twisted_tcp
from rooms import wire

ROOT = Path(__file__).resolve().parents[2]

# Every private (or undocumented) name the non-media code relies on, by package: the adapters must
# check exactly these.
RELIED_ON = {
    "daphne": {
        "daphne.ws_protocol.WebSocketProtocol",
        "daphne.server.Server.create_application: send=partial(handle_reply, protocol)",
        "daphne.ws_protocol.WebSocketProtocol.transport",
        "daphne.ws_protocol.WebSocketProtocol.client_addr",
    },
    "autobahn": {
        "autobahn.websocket.protocol.WebSocketProtocol.STATE_OPEN",
        "autobahn.websocket.protocol.WebSocketProtocol.state",
        "autobahn.websocket.protocol.WebSocketProtocol._perMessageCompress",
        "daphne.ws_protocol.WebSocketProtocol is an autobahn WebSocketProtocol",
    },
    "Twisted": {
        "twisted.internet.tcp.Connection.dataBuffer",
        "twisted.internet.tcp.Connection.offset",
        "twisted.internet.tcp.Connection._tempDataLen",
        "twisted.internet.tcp.Connection._writeDisconnected",
        "twisted.internet.tcp.Connection.connected",
        "twisted.internet.tcp.Connection.socket",
        "twisted.internet.tcp.Connection.write",
        "twisted.internet.tcp.Connection.abortConnection",
    },
    "channels": {
        "channels.sessions.InstanceSessionWrapper.real_send",
        "channels.consumer.get_handler_name",
        "channels.consumer.AsyncConsumer.base_send",
        "channels.consumer.AsyncConsumer.__call__ dispatches through self.dispatch",
        "channels.layers.get_channel_layer(unknown alias) is None",
    },
}

# aiortc internals media/ relies on (read only: this test does not touch media/). Who uses which:
# liverooms/adapters/aiortc_media.py (USES), which warns at start-up when one is gone.
AIORTC = aiortc_media.USES
_SENDER_PRIVATE = "aiortc.rtcrtpsender.RTCRtpSender._RTCRtpSender__"
RELIED_ON["aiortc"] = {
    "aiortc.rtcrtpsender.RTCRtpSender._run_rtp",
    "aiortc.rtcrtpsender.RTCRtpSender._next_encoded_frame",
    "aiortc.rtcrtpsender.RTCRtpSender._ssrc",
    *(
        _SENDER_PRIVATE + slot
        for slot in (
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
    ),
    "aiortc.rtp.HeaderExtensionsMap._HeaderExtensionsMap__ids",
    "aiortc.rtcdtlstransport.RTCDtlsTransport._send_rtp",
    "aiortc.rtcrtpsender.random_sequence_number",
    "aiortc.rtp.RTP_HISTORY_SIZE",
    "aiortc.rtp.HeaderExtensions",
    "aiortc.rtp.pack_header_extensions",
    "aiortc.utils.random32",
    "aiortc.clock.current_ntp_time",
    "aiortc.rtcrtpreceiver.RTCRtpReceiver._RTCRtpReceiver__decoder_queue",
    "aiortc.rtcrtpreceiver.RTCRtpReceiver._RTCRtpReceiver__decoder_thread",
    "aiortc.rtcrtpsender.RTCRtpSender._stream_id",
    "aiortc.rtcrtpsender.RTCRtpSender._send_keyframe",
    "aiortc.rtcrtpreceiver.RTCRtpReceiver._handle_rtcp_packet",
    "aiortc.rtcrtpreceiver.RTCRtpReceiver._handle_rtp_packet",
    "aiortc.rtcrtpreceiver.RTCRtpReceiver._send_rtcp_pli",
    "aiortc.codecs.vpx.Vp8Encoder._packetize",
    "aiortc.codecs.h264.H264Encoder._packetize",
    "aiortc.codecs.h264.H264Encoder._split_bitstream",
    "aiortc.rtcdtlstransport.RTCDtlsTransport._ssl",
}
MEDIA_FILES = ["rtpsend.py", "passthrough.py", "relay.py", "vp8.py", "h264.py", "dtls.py"]


def _gone(adapter: Adapter) -> str:
    return (
        f"{adapter.package} {adapter.version} no longer has {', '.join(adapter.missing())}, which "
        f"{adapter.used_by} relies on. At start-up liverooms now warns and falls back ({adapter.fallback}); "
        "adapt the module to the new version, or keep the pin (docs/development.md, Pins)."
    )


@pytest.mark.parametrize("adapter", all_adapters(), ids=lambda adapter: adapter.package)
def test_it_finds_every_private_name_relied_on(adapter: Adapter) -> None:
    assert not adapter.missing(), _gone(adapter)


@pytest.mark.parametrize("adapter", all_adapters(), ids=lambda adapter: adapter.package)
def test_it_lists_exactly_what_each_adapter_checks(adapter: Adapter) -> None:
    assert {need.name for need in adapter.needs} == RELIED_ON[adapter.package]


def test_it_has_every_private_name_rooms_wire_reads_in_an_adapter() -> None:
    """A new private attribute read in rooms/wire.py must be added to its package's adapter."""
    source = (ROOT / "rooms" / "wire.py").read_text()
    own = set(re.findall(r"def (_\w+)|^(_\w+) =", source, re.MULTILINE))
    own_names = {name for pair in own for name in pair if name}
    read = set(re.findall(r"\.(_[A-Za-z]\w*)", source)) | set(re.findall(r'getattr\(\w+, "(_\w+)"', source))
    checked = " ".join(name for names in RELIED_ON.values() for name in names)
    dunders = {name for name in read if name.startswith("__") and name.endswith("__")}  # Python's own
    unchecked = sorted(name for name in read - own_names - dunders if not re.search(rf"\b{name}\b", checked))
    assert not unchecked, f"rooms/wire.py reads {unchecked}: add them to the package's adapter in liverooms/adapters/"


@pytest.mark.parametrize(("where", "need"), AIORTC, ids=[need.name for _, need in AIORTC])
def test_it_finds_every_aiortc_internal_media_relies_on(where: str, need: Need) -> None:
    assert need.present(), (
        f"aiortc {version('aiortc')} no longer has {need.name}, which {where} relies on: "
        "adapt it (and its aiortc adapter) to the new version, or keep the pin (docs/development.md, Pins)"
    )


def test_it_lists_every_aiortc_internal_media_uses() -> None:
    """Every mangled name, `_PRIVATE + "…"` slot and `._name` of an aiortc object in media/ is listed."""
    listed = {need.name.rsplit(".", 1)[-1] for _, need in AIORTC}
    found: dict[str, set[str]] = {}
    for name in MEDIA_FILES:
        source = (ROOT / "media" / name).read_text()
        names = set(re.findall(r"\b(_[A-Z]\w*__\w+)", source))
        names |= {f"_RTCRtpSender__{slot}" for slot in re.findall(r'_PRIVATE \+ "(\w+)"', source)}
        names |= set(re.findall(r"\b(?:sender|receiver|transport|Vp8Encoder|H264Encoder)\.(_[a-z]\w*)", source))
        names |= set(re.findall(r'getattr\((?:sender|receiver|transport), "(_\w+)"', source))
        found[name] = names - {"_PRIVATE"}
    unlisted = {name: sorted(names - listed) for name, names in found.items() if names - listed}
    assert not unlisted, f"media/ uses aiortc internals this canary does not list: {unlisted}"


@pytest.fixture
def twisted_changed() -> Iterator[Adapter]:
    """The Twisted adapter as it would be if Connection lost `_tempDataLen` (a name that is not there)."""
    adapter = twisted_tcp.ADAPTER
    real_needs, real_ok = adapter.needs, adapter.ok
    adapter.needs = [*real_needs, attribute("twisted.internet.tcp:Connection", "_tempDataLenGone")]
    adapter.ok = None
    try:
        yield adapter
    finally:
        adapter.needs, adapter.ok = real_needs, real_ok


def test_it_warns_and_falls_back_when_a_private_name_is_gone(
    twisted_changed: Adapter, caplog: pytest.LogCaptureFixture
) -> None:
    assert wire.direct_path_on() is True or twisted_changed.ok is False  # probes on first use
    assert twisted_changed.ok is False
    assert wire.direct_path_on() is False
    warning = next(r for r in caplog.records if r.name == "liverooms.adapters")
    assert warning.levelno == logging.WARNING
    assert "twisted.internet.tcp.Connection._tempDataLenGone" in warning.getMessage()
    assert "rooms/wire.py" in warning.getMessage()


def test_it_takes_the_direct_path_with_the_pinned_packages() -> None:
    assert wire.direct_path_on() is True
