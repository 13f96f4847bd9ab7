"""Why a peer's DTLS handshake failed, in words a broadcaster can act on.

aiortc logs only "DTLS handshake failed (error [])" at debug level: the OpenSSL it runs on
(`cryptography`'s) rejects some certificates without leaving a reason in pyOpenSSL's error list.
The peer's certificate is still there after the failure, and it tells the known cases apart:

- FFmpeg built on GnuTLS (PyAV's wheels, FFmpeg 8's `whip` muxer) signs with a P-224 key; OpenSSL
  4 refuses that curve ("wrong curve"). Remedy: give FFmpeg a P-256 certificate.
- GStreamer's webrtcbin uses RSA certificates; aiortc offers ECDSA cipher suites only (aiortc #1392):
  as the DTLS server such a client has nothing to answer with, and fails before sending its
  certificate (as the DTLS client, `a=setup:active`, it connects).
- libdatachannel before #1406 (older OBS) writes X.509 v2 certificates, which `cryptography`
  cannot load (aiortc #1331).
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

#: curves aiortc's OpenSSL accepts for a peer's ECDSA certificate
ACCEPTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")

P256_HINT = (
    "give the client a P-256 certificate, e.g. `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
    "-nodes -days 365 -subj /CN=whip -keyout whip.key -out whip.crt`, then ffmpeg `-cert_file whip.crt "
    "-key_file whip.key` (the studio shows the full command)"
)


def _failed_transport(pc: Any) -> Any:
    for transceiver in pc.getTransceivers():
        for end in (transceiver.receiver, transceiver.sender):
            transport = getattr(end, "transport", None)
            if transport is not None and getattr(transport, "state", None) == "failed":
                return transport
    return None


def explain_failure(pc: Any) -> str:
    """A sentence on why `pc` (an RTCPeerConnection in state 'failed') never connected."""
    transport = _failed_transport(pc)
    if transport is None:
        return "ICE failed: no network path to the client (is UDP blocked? configure MEDIA_ICE_SERVERS)"
    ssl = getattr(transport, "_ssl", None)
    if ssl is None:
        return "DTLS handshake failed before it started"
    try:
        certificate = ssl.get_peer_certificate(as_cryptography=True)
    except ValueError as exc:
        return (
            f"DTLS handshake failed: the client's certificate cannot be read ({exc}); old libdatachannel "
            "(OBS before 31) writes X.509 v2 certificates: update the client"
        )
    if certificate is None:
        return (
            "DTLS handshake failed before the client sent its certificate: no cipher suite in common? This "
            "server offers ECDSA suites only, which a client with an RSA certificate (GStreamer webrtcbin) "
            "cannot serve: give it an ECDSA P-256 certificate, or let it offer a=setup:active"
        )
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name not in ACCEPTED_CURVES:
        return (
            f"DTLS handshake failed: the client signs with a {key.curve.name} key, a curve this server's "
            f"OpenSSL refuses (wrong curve; FFmpeg's GnuTLS builds do this): {P256_HINT}"
        )
    if isinstance(key, rsa.RSAPublicKey):
        return (
            "DTLS handshake failed: the client's certificate is RSA; this server negotiates ECDSA only "
            "(GStreamer webrtcbin does this): use an ECDSA P-256 certificate"
        )
    kind = key.curve.name if isinstance(key, ec.EllipticCurvePublicKey) else type(key).__name__
    return f"DTLS handshake failed with a {kind} certificate (OpenSSL gave no reason)"
