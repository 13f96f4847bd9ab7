"""How a delivery is signed, and how a receiver checks it.

`X-Liverooms-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>", keyed by the
endpoint's secret>`. The signed message starts with the header's own `t`, so a receiver that
checks the signature and that `t` is recent is safe from replays: a captured body sent again with
a fresh `t` no longer verifies.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Liverooms-Signature"


def signature(secret: str, body: bytes, timestamp: int | str) -> str:
    """The hex HMAC-SHA256 of `f"{timestamp}.{body}"` (the body's raw bytes) keyed by `secret`."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={signature(secret, body, timestamp)}"


def verify(secret: str, body: bytes, header: str) -> int | None:
    """The header's timestamp if it signs `body` at that time with `secret`, else None (for
    receivers and tests; checking that the timestamp is recent is the receiver's part)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    raw = parts.get("t", "")
    if not raw.isascii() or not raw.isdigit():
        return None
    # The `t` exactly as the header spells it is what was signed.
    return int(raw) if hmac.compare_digest(parts.get("v1", ""), signature(secret, body, raw)) else None
