"""Sign-up and log-in throttles (issue #12), answered with 429, `Retry-After` and a page.

- Sign-up: every sign-up POST takes a token from its client address's bucket
  (`SIGNUPS_PER_ADDRESS_PER_HOUR`, that many at once, refilled evenly over the hour).
- Log-in, per address: every log-in POST (site and admin) takes a token from its client
  address's bucket (`LOGINS_PER_ADDRESS_PER_HOUR`). One address guessing across many accounts
  stops here.
- Log-in, per account: at most `LOGIN_FAILURES_PER_ACCOUNT` failed log-ins per account in a
  window of `LOGIN_FAILURE_WINDOW` seconds from its first failure, from any number of
  addresses; past that the account's log-in answers 429 until the window closes, even with
  the right password (otherwise the attacker learns when a guess is right). An attempt
  reserves a failure *before* the password is checked (so parallel guesses cannot overshoot)
  and gives back only its own reservation when it succeeds: a success resets nothing, neither
  the account's failures nor an address's bucket.
- So that an attacker pausing an account does not lock its owner out, a browser that has logged
  in to an account is given a signed "known device" cookie for it; its attempts on that account
  count in a window of their own instead of the shared one (the per-address limit still applies).

Buckets are `liverooms.ratelimit` token buckets (Redis when configured); failure windows are
counters in Django's cache (Redis when configured). Both are shared by every process.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import secrets
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.forms import UsernameField
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from liverooms.clients import client_key
from liverooms.ratelimit import retry_after, token_wait

View = Callable[..., HttpResponseBase]
HOUR = 3600.0


def signups_per_address_per_hour() -> int:
    return settings.SIGNUPS_PER_ADDRESS_PER_HOUR


def logins_per_address_per_hour() -> int:
    return settings.LOGINS_PER_ADDRESS_PER_HOUR


def login_failures_per_account() -> int:
    return settings.LOGIN_FAILURES_PER_ACCOUNT


def login_failure_window() -> int:
    return settings.LOGIN_FAILURE_WINDOW


def hourly_wait(key: str, per_hour: int) -> float:
    """Take a token from an hourly bucket: 0.0, or the seconds until one is there."""
    return token_wait(key, capacity=per_hour, per_second=per_hour / HOUR)


def signup_wait(request: HttpRequest) -> float:
    return hourly_wait(f"signup:address:{client_key(request)}", signups_per_address_per_hour())


def login_address_wait(request: HttpRequest) -> float:
    return hourly_wait(f"login:address:{client_key(request)}", logins_per_address_per_hour())


def login_username(request: HttpRequest) -> str:
    """The username a log-in POST names, normalised as the log-in form normalises it (NFKC,
    trimmed), so a full-width or padded spelling of a name counts against the same account."""
    raw = request.POST.get("username", "")
    return str(UsernameField(max_length=1000).to_python(raw[:1000]))


DEVICE_COOKIE = "liverooms_device"
DEVICE_SALT = "liverooms.throttles.device"
DEVICE_MAX_AGE = 180 * 24 * 3600


def account_digest(username: str) -> str:
    return hashlib.sha256(username.encode()).hexdigest()[:32]


def known_device(request: HttpRequest, username: str) -> str | None:
    """The id of this browser if it has logged in to `username` before (its device cookie)."""
    try:
        value = request.get_signed_cookie(DEVICE_COOKIE, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE)
    except (KeyError, signing.BadSignature):
        return None
    device, _, digest = (value or "").partition(":")
    return device if device and digest == account_digest(username) else None


def remember_device(response: HttpResponseBase, username: str, device: str | None) -> None:
    """Give a browser that just logged in to `username` its device cookie (the same id again)."""
    value = f"{device or secrets.token_urlsafe(16)}:{account_digest(username)}"
    response.set_signed_cookie(
        DEVICE_COOKIE,
        value,
        salt=DEVICE_SALT,
        max_age=DEVICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


class AccountFailures:
    """The failed log-ins of one account in its current window, shared by every process. A
    window opens at the account's first failure and lasts `LOGIN_FAILURE_WINDOW` seconds (a
    window on the clock's grid would let a burst straddling its edge count twice)."""

    def __init__(self, username: str, *, device: str | None = None) -> None:
        self.window = login_failure_window()
        self.key = f"login:failures:{account_digest(username)}"
        if device:
            self.key += f":device:{device}"
        self.opened_key = f"{self.key}:opened"

    def reserve(self) -> float:
        """Count this attempt as a failure until it succeeds: 0.0, or (refusing) the seconds
        until the window closes."""
        now = time.time()
        cache.add(self.opened_key, now, timeout=self.window)
        cache.add(self.key, 0, timeout=self.window)
        try:
            count = cache.incr(self.key)
        except ValueError:  # the window closed between add and incr
            cache.add(self.key, 1, timeout=self.window)
            count = 1
        if count > login_failures_per_account():
            opened = float(cache.get(self.opened_key, now))
            return max(0.001, opened + self.window - now)
        return 0.0

    def release(self) -> None:
        """This attempt succeeded: take back its own reservation (and nothing more)."""
        with contextlib.suppress(ValueError):  # the window closed meanwhile
            cache.decr(self.key)


def too_many(request: HttpRequest, *, wait: float, doing: str) -> HttpResponse:
    """The 429 page: what was paused and when to try again."""
    seconds = retry_after(wait)
    response = TemplateResponse(
        request,
        "registration/too_many.html",
        {"doing": doing, "seconds": seconds, "when": in_words(seconds)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def in_words(seconds: int) -> str:
    """`in 45 seconds`, `in 3 minutes`, `in about 2 hours`."""
    if seconds < 60:
        return ngettext("in %(count)d second", "in %(count)d seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return ngettext("in %(count)d minute", "in %(count)d minutes", minutes) % {"count": minutes}
    hours = round(minutes / 60)
    return ngettext("in about %(count)d hour", "in about %(count)d hours", hours) % {"count": hours}


def throttled_login(view: View) -> View:
    """Wrap a log-in view (the site's or the admin's) in both log-in throttles."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        wait = login_address_wait(request)
        if wait:
            return too_many(request, wait=wait, doing=_("Logging in from your network"))
        username = login_username(request)
        device = known_device(request, username)
        failures = AccountFailures(username, device=device)
        wait = failures.reserve()
        if wait:
            return too_many(request, wait=wait, doing=_("Logging in to this account"))
        before = request.user
        response = view(request, *args, **kwargs)
        user = request.user
        if user is not before and user.is_authenticated and user.get_username() == username:
            failures.release()  # this attempt logged in (an earlier session proves nothing)
            remember_device(response, username, device)
        return response

    return wrapper
