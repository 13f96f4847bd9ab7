"""DTLS certificates for outside WHIP clients in tests (what `openssl req -x509 -newkey ec` makes)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(key: Any, common_name: str) -> x509.Certificate:
    """A certificate for `key` (EC or RSA), signed by itself, valid from yesterday for 30 days."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


def p256_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed ECDSA P-256 certificate and its key, as PEM files in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = self_signed(key, "whip")
    cert_path, key_path = folder / "whip.crt", folder / "whip.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path
