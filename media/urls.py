from django.urls import path

from media import views
from media.urls_recording import urlpatterns as recording_urls

app_name = "media"
urlpatterns = [
    path("<slug:slug>/whip", views.whip, name="whip"),
    path("<slug:slug>/whep", views.whep, name="whep"),
    path("<slug:slug>/whip/token", views.rotate_token, name="whip-token"),
    path("<slug:slug>/whip/<str:session>", views.end_session, {"kind": "whip"}, name="whip-session"),
    path("<slug:slug>/whep/<str:session>", views.end_session, {"kind": "whep"}, name="whep-session"),
]
urlpatterns += recording_urls  # recording and replays (media/urls_recording.py)
