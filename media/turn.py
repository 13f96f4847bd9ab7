"""Time-limited TURN credentials: the TURN REST API's shared secret (coturn `use-auth-secret`).

The server and coturn share TURN_SECRET. For each WHIP/WHEP client the server makes a username
`<expiry unix time>:<who>` and its password base64(HMAC-SHA1(secret, username)); coturn
recomputes the password from the username and refuses it once the expiry has passed. Nothing is
stored and nothing is sent to coturn: rotating the secret (both sides) revokes every credential.
`who` is never a session id (that is the capability to DELETE the session, and a TURN username
crosses the network in the clear): it is a hash label of one, or a random id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class TurnCredential:
    username: str
    credential: str
    expires: int  # unix time


def password_for(secret: str, username: str) -> str:
    """coturn's `static-auth-secret` password: base64(HMAC-SHA1(secret, username))."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def credential_for(*, secret: str, ttl: int, who: str | None = None, now: float | None = None) -> TurnCredential:
    """A credential valid for `ttl` seconds from `now`, for `who` (a random id when None)."""
    expires = int(now if now is not None else time.time()) + ttl
    username = f"{expires}:{who or secrets.token_hex(8)}"
    return TurnCredential(username=username, credential=password_for(secret, username), expires=expires)
