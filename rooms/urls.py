from django.urls import path

from rooms import views, views_replay

app_name = "rooms"
urlpatterns = [
    path("", views.create, name="create"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/replay/", views_replay.replay_page, name="replay"),
    path("<slug:slug>/replay/timeline", views_replay.replay_timeline, name="replay-timeline"),
]
