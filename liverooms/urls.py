from datetime import datetime
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.http import last_modified
from django.views.i18n import JSONCatalog

from liverooms import probes, views

# The JS catalogue changes only with a deploy: browsers revalidate it and get 304 meanwhile.
STARTED = timezone.now().replace(microsecond=0)


def _catalogue_changed(request: HttpRequest, **kwargs: Any) -> datetime:
    return STARTED


catalogue = last_modified(_catalogue_changed)(JSONCatalog.as_view(domain="djangojs"))

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.login_page, name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("rooms/", include("rooms.urls")),
    path("rooms/", include("media.urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the header's language switch
    path(
        "jsi18n/", catalogue, name="javascript-catalog"
    ),  # room.js's strings (rooms/static/rooms/i18n.js; ?lang= keeps one cached copy per language)
    path("admin/login/", views.admin_login_page),
    path("admin/", admin.site.urls),
    # Answered by liverooms.probes.ProbesMiddleware before any host check; named here for reverse().
    path("healthz", probes.healthz, name="healthz"),
    path("metrics", probes.metrics_view, name="metrics"),
]

handler404 = "liverooms.views.not_found"
