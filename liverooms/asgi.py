"""ASGI entry point: HTTP through Django, websockets through Channels.

Websocket consumers are imported only after Django is set up (`get_asgi_application()`), and
every socket passes the Origin check and session authentication before it reaches a consumer.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liverooms.settings")
django_asgi_app = get_asgi_application()

# Thousands of long-lived sockets make every full collection long and fruitless (bench/README.md:
# 100-300 ms pauses straight onto p99). Keep what start-up built out of the collector's sight and
# collect the young generation less often.
gc.freeze()
gc.set_threshold(50_000, 20, 100)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from liverooms.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
