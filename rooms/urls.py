from django.urls import path

from rooms import views

app_name = "rooms"
urlpatterns = [
    path("", views.create, name="create"),
    path("<slug:slug>/", views.detail, name="detail"),
]
