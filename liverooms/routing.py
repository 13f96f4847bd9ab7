"""Websocket URL routes, gathered from the apps that own them."""

from rooms.routing import websocket_urlpatterns as rooms_patterns

websocket_urlpatterns = [*rooms_patterns]
