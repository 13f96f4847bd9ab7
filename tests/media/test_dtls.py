"""A failed DTLS handshake is logged with what to do. FFmpeg's P-224 certificate: tests/media/test_ffmpeg.py;
here a client with an RSA certificate (as GStreamer's webrtcbin has), made from an aiortc peer."""

from __future__ import annotations

import logging

import pytest
from aiortc import rtcpeerconnection
from aiortc.rtcdtlstransport import RTCCertificate
from cryptography.hazmat.primitives.asymmetric import rsa

from media.relay import RoomRelay
from tests.media.certificates import self_signed
from tests.media.peers import Peers, Publisher, wait_for


def rsa_certificate() -> RTCCertificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = self_signed(key, "webrtcbin")
    return RTCCertificate(key=key, cert=certificate)  # aiortc types the key as EC; any key works here


def rsa_publisher(monkeypatch: pytest.MonkeyPatch) -> Publisher:
    """A publishing client whose DTLS certificate is RSA (the client side only)."""
    with monkeypatch.context() as patch:
        patch.setattr(rtcpeerconnection.RTCCertificate, "generateCertificate", staticmethod(rsa_certificate))
        return Publisher(0)


async def test_an_rsa_client_as_dtls_server_is_told_to_use_ecdsa(
    relay: RoomRelay, peers: Peers, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="media.relay")
    publisher = peers.add(rsa_publisher(monkeypatch))
    await publisher.accept((await relay.publish(0, await publisher.offer()))[1])  # actpass: the relay is client
    await wait_for(lambda: publisher.pc.connectionState == "failed", within=15, what="the handshake failing")
    await wait_for(lambda: relay.session_count() == 0, within=5, what="the relay ending the session")
    failures = [r.getMessage() for r in caplog.records if "could not connect" in r.getMessage()]
    assert failures, caplog.text
    assert "RSA" in failures[0]
    assert "ECDSA P-256" in failures[0]


async def test_an_rsa_client_as_dtls_client_connects(
    relay: RoomRelay, peers: Peers, monkeypatch: pytest.MonkeyPatch
) -> None:
    publisher = peers.add(rsa_publisher(monkeypatch))
    offer = (await publisher.offer()).replace("a=setup:actpass", "a=setup:active")
    await publisher.accept((await relay.publish(0, offer))[1])
    await wait_for(lambda: relay.is_publishing(0), within=15, what="publishing")
