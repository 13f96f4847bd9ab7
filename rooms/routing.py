"""Websocket routes of the rooms app."""

from django.urls import path

from rooms.consumers import RoomConsumer

websocket_urlpatterns = [path("ws/rooms/<slug:slug>/", RoomConsumer.as_asgi())]
