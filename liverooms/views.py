"""Site-wide pages: home, sign-up, log-in and not found. Room pages live in the rooms app."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from liverooms.forms import SignupForm
from liverooms.throttles import signup_wait, throttled_login, too_many
from rooms.forms import GoLiveForm
from rooms.queries import live_rooms


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"form": GoLiveForm(), "rooms": live_rooms()})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The branded 404: what there is instead (the lives on now)."""
    return render(request, "404.html", {"rooms": live_rooms(limit=6)}, status=404)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST":
        wait = signup_wait(request)
        if wait:
            return too_many(request, wait=wait, doing=_("Signing up from your network"))
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


# Django's log-in pages, behind the log-in throttles.
login_page = throttled_login(LoginView.as_view())
admin_login_page = throttled_login(admin.site.login)
