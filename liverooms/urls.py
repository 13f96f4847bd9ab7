from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JSONCatalog

from liverooms import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.login_page, name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("rooms/", include("rooms.urls")),
    path("rooms/", include("media.urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the header's language switch
    path("jsi18n/", JSONCatalog.as_view(domain="djangojs"), name="javascript-catalog"),
    path("admin/login/", views.admin_login_page),
    path("admin/", admin.site.urls),
]

handler404 = "liverooms.views.not_found"
