from django.contrib import admin
from django.urls import include, path

from liverooms import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.login_page, name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("rooms/", include("rooms.urls")),
    path("rooms/", include("media.urls")),
    path("admin/login/", views.admin_login_page),
    path("admin/", admin.site.urls),
]
