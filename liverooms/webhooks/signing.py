"""How a delivery is signed, and how a receiver checks it.

`X-Liverooms-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of the raw body, keyed by the
endpoint's secret>`. The body carries the same `timestamp`, so a receiver that checks the
signature and that the timestamp is recent is safe from replays.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Liverooms-Signature"


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={signature(secret, body)}"


def verify(secret: str, body: bytes, header: str) -> int | None:
    """The header's timestamp if it signs `body` with `secret`, else None (for receivers and tests)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return None
    return timestamp if hmac.compare_digest(parts.get("v1", ""), signature(secret, body)) else None
