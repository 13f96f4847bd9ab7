"""URLs of recording and replays (included by media/urls.py, mounted under /rooms/)."""

from django.urls import path

from media import views_recording as views

urlpatterns = [
    path("<slug:slug>/recording", views.set_recording, name="recording"),
    path("<slug:slug>/replay/private", views.set_private, name="replay-private"),
    path("<slug:slug>/replay/delete", views.delete, name="replay-delete"),
    path("<slug:slug>/replay/composed.mp4", views.composed, name="replay-composed"),
    path("<slug:slug>/replay/tracks/<int:pk>.<str:ext>", views.track, name="replay-track"),
]
