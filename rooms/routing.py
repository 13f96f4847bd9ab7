"""Websocket routes of the rooms app (the room consumer arrives with the room protocol)."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
