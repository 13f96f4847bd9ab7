"""liverooms settings: one module, configured from environment variables.

The defaults serve a laptop with no outside services (SQLite, in-memory channel layer,
local-memory cache, Celery on a filesystem broker). `DATABASE_URL` and `REDIS_URL` switch to
PostgreSQL and Redis. Every variable is listed in README.md.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from liverooms.env import (
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    redis_url,
)

django_stubs_ext.monkeypatch()  # lets the admin's generic types (ModelAdmin[Comment]) run

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LIVEROOMS_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for local development)")
    SECRET_KEY = "insecure-development-key-only-for-DEBUG"  # noqa: S105 - used only with DEBUG on

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rooms",
    "comments",
    "media",
    "liverooms.webhooks",
]

MIDDLEWARE = [
    "liverooms.probes.ProbesMiddleware",  # /healthz and /metrics: before host checks and redirects
    "django.middleware.security.SecurityMiddleware",
    "liverooms.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "liverooms.urls"
ASGI_APPLICATION = "liverooms.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data -----------------------------------------------------------------------------------

DATABASES = {
    "default": database_from_url("DATABASE_URL", env_str("DATABASE_URL"), sqlite_default=BASE_DIR / "db.sqlite3"),
}
# PostgreSQL connections come from a pool per process (psycopg_pool): a socket action borrows one
# and gives it back (liverooms.db closes it), instead of opening a connection each time. Not
# CONN_MAX_AGE: under ASGI each request runs on a thread of its own, whose persistent connection
# would outlive it. A borrowed connection is checked first, so one a restarted server cut is
# replaced rather than handed to a query; past `timeout` s without a free one, the action fails.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["OPTIONS"]["pool"] = {"min_size": 2, "max_size": 20, "timeout": 5}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # with a pool: check each connection it lends
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url("REDIS_URL")

# redis-py's pool defaults changed in 8.x (5 s socket timeout, 100 connections) and tear down
# idle consumers under load; liverooms sets both explicitly.
REDIS_SOCKET_TIMEOUT = None
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 1000, minimum=10)

CHANNEL_LAYERS: dict[str, dict[str, Any]]
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": REDIS_SOCKET_TIMEOUT,
                        "max_connections": REDIS_MAX_CONNECTIONS,
                    }
                ],
                "prefix": "liverooms",
                "capacity": 1000,
                "expiry": 60,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "liverooms",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
# With Redis, Redis is the broker. Without it, kombu's filesystem transport keeps the queue in
# a folder, so `make run` runs a real worker and beat with no outside service.

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {}
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task taken by a worker that died goes back to the queue after this many seconds. Every
    # task is idempotent, so a shorter time only costs a duplicate run of a task still running.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=10),
    }
# Webhook deliveries wait on other people's servers: they get their own queue (and, in
# production, their own workers), so a receiver that never answers holds up no room's work.
CELERY_TASK_ROUTES = {"webhooks.*": {"queue": "webhooks"}}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_TIMEZONE = "UTC"

# --- Rooms ----------------------------------------------------------------------------------

# A live room whose host has had no socket and no media for this many seconds is ended by the
# sweep; a guest gone as long loses their seat.
ROOM_ABANDONED_AFTER = env_int("ROOM_ABANDONED_AFTER", 60, minimum=1)
# How often Celery beat runs that sweep, in seconds.
ROOM_SWEEP_INTERVAL = env_int("ROOM_SWEEP_INTERVAL", 15, minimum=1)
# A seat's `publishing` is a lease of this many seconds, renewed every PUBLISHING_RENEW_INTERVAL
# by the process relaying its media; the sweep turns off the seats of a process that died.
PUBLISHING_LEASE_SECONDS = env_float("PUBLISHING_LEASE_SECONDS", 30, minimum=1)
PUBLISHING_RENEW_INTERVAL = env_float("PUBLISHING_RENEW_INTERVAL", 10, minimum=0.1)
if PUBLISHING_RENEW_INTERVAL * 2 > PUBLISHING_LEASE_SECONDS:
    raise ImproperlyConfigured("PUBLISHING_RENEW_INTERVAL must be at most half of PUBLISHING_LEASE_SECONDS")
# A room socket with this many bytes queued for it is not reading: the server cuts it off (the
# client resumes from its last `seq`) rather than buffer for it without bound.
WEBSOCKET_MAX_QUEUED_BYTES = env_int("WEBSOCKET_MAX_QUEUED_BYTES", 4 * 1024 * 1024, minimum=16 * 1024)
# How often Celery beat counts room figures (unique viewers, comments) and announces peaks.
ROOM_STATS_INTERVAL = env_int("ROOM_STATS_INTERVAL", 30, minimum=1)
# Retention (rooms.retention, liverooms.webhooks.retention; pruned every RETENTION_INTERVAL s).
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 7, minimum=1)
VIEWER_RETENTION_DAYS = env_int("VIEWER_RETENTION_DAYS", 30, minimum=1)
WEBHOOK_RETENTION_DAYS = env_int("WEBHOOK_RETENTION_DAYS", 14, minimum=1)
RETENTION_INTERVAL = env_int("RETENTION_INTERVAL", 3600, minimum=10)

# --- Webhooks -------------------------------------------------------------------------------

# Seconds one delivery attempt may take in all: look-up, connect, TLS, sending, the status line.
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10, minimum=1)
# Allow webhook endpoints on loopback/private/link-local/... addresses (refused by default).
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
# Back-off after a failed attempt: WEBHOOK_RETRY_BASE seconds, doubling, at most WEBHOOK_RETRY_MAX.
WEBHOOK_RETRY_BASE = env_float("WEBHOOK_RETRY_BASE", 10.0, minimum=0.01)
WEBHOOK_RETRY_MAX = env_float("WEBHOOK_RETRY_MAX", 3600.0, minimum=0.01)
# Seconds after an event (or a resend) that retries go on before a delivery is given up.
WEBHOOK_RETRY_FOR = env_int("WEBHOOK_RETRY_FOR", 24 * 3600, minimum=1)
# How often Celery beat looks for due deliveries whose scheduled retry was lost.
WEBHOOK_SWEEP_INTERVAL = env_int("WEBHOOK_SWEEP_INTERVAL", 30, minimum=1)

# --- Media (WHIP/WHEP relay) ----------------------------------------------------------------
# ICE servers the relay uses and announces to WHIP/WHEP clients (`Link: <…>; rel="ice-server"`):
# comma-separated `stun:` / `turn:` / `turns:` URLs. Empty (the default) suits a LAN or loopback.
MEDIA_ICE_SERVERS = env_list("MEDIA_ICE_SERVERS", [])
# Long-term credentials for the `turn:`/`turns:` URLs above (STUN URLs carry none).
MEDIA_TURN_USERNAME = env_str("MEDIA_TURN_USERNAME")
MEDIA_TURN_CREDENTIAL = env_str("MEDIA_TURN_CREDENTIAL")
# TURN for clients behind NAT (coturn `use-auth-secret`): `turn:`/`turns:` URLs announced with fresh
# time-limited credentials made from TURN_SECRET, valid TURN_CREDENTIAL_TTL seconds (docs/deploy.md).
TURN_URLS = env_list("TURN_URLS", [])
TURN_SECRET = env_str("TURN_SECRET")
TURN_CREDENTIAL_TTL = env_int("TURN_CREDENTIAL_TTL", 3600, minimum=60)
# WHIP and WHEP offers one client address may make at once, then per minute (429 + Retry-After past it).
MEDIA_OFFER_BURST = env_int("MEDIA_OFFER_BURST", 10, minimum=1)
MEDIA_OFFERS_PER_MINUTE = env_int("MEDIA_OFFERS_PER_MINUTE", 30, minimum=1)
# WHEP viewers per client address (connected or not), per room, per process, and unconnected per process.
MEDIA_PEERS_PER_ADDRESS = env_int("MEDIA_PEERS_PER_ADDRESS", 10, minimum=1)
MEDIA_PEERS_PER_ROOM = env_int("MEDIA_PEERS_PER_ROOM", 150, minimum=1)
MEDIA_MAX_PEERS = env_int("MEDIA_MAX_PEERS", 300, minimum=1)
MEDIA_MAX_PENDING_PEERS = env_int("MEDIA_MAX_PENDING_PEERS", 50, minimum=1)
# Seconds a new WHIP/WHEP peer has to connect before it is closed.
MEDIA_CONNECT_TIMEOUT = env_float("MEDIA_CONNECT_TIMEOUT", 10.0, minimum=0.1)
# Distinct ICE candidates of one offer the relay tries; try private/loopback ones from any client.
MEDIA_MAX_ICE_CANDIDATES = env_int("MEDIA_MAX_ICE_CANDIDATES", 20, minimum=1)
# Bytes of UDP receive buffer on each publisher's (and an edge's upstream's) socket (media.sockets).
MEDIA_RECEIVE_BUFFER = env_int("MEDIA_RECEIVE_BUFFER", 4 * 1024 * 1024, minimum=65536)
MEDIA_ALLOW_PRIVATE_CANDIDATES = env_bool("MEDIA_ALLOW_PRIVATE_CANDIDATES", False)
# Who is speaking (RTP audio-level extension): a seat speaks once its packets stay at or above
# SPEAKING_LEVEL_DBOV for SPEAKING_START_MS, and stops after SPEAKING_STOP_MS without.
SPEAKING_LEVEL_DBOV = env_float("SPEAKING_LEVEL_DBOV", -50.0, minimum=-127.0)
SPEAKING_START_MS = env_int("SPEAKING_START_MS", 100, minimum=0)
SPEAKING_STOP_MS = env_int("SPEAKING_STOP_MS", 500, minimum=20)
# Seconds between writes of a room's talk time per seat (media.speaking_time): the most of it a
# killed process loses.
TALK_TIME_FLUSH_SECONDS = env_float("TALK_TIME_FLUSH_SECONDS", 10.0, minimum=0.1)
# Origin and edges (media.origin, media.edge): with REDIS_URL, each daphne's own base URL that
# the other processes reach it at (http://10.0.0.5:8101); unset, this process is every room's origin.
LIVEROOMS_INTERNAL_URL = env_str("LIVEROOMS_INTERNAL_URL").rstrip("/")
if LIVEROOMS_INTERNAL_URL and not LIVEROOMS_INTERNAL_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("LIVEROOMS_INTERNAL_URL must be an http:// or https:// base URL")
# Seconds a room's origin lease lasts unrenewed (renewed every third of it) before another process may take it.
ORIGIN_LEASE_SECONDS = env_float("ORIGIN_LEASE_SECONDS", 10.0, minimum=0.5)
# Seconds an edge keeps its subscription to the origin with no local viewer.
EDGE_IDLE_SECONDS = env_float("EDGE_IDLE_SECONDS", 5.0, minimum=0.1)

# --- Recording and replays (media/recording/, docs/recording.md) ----------------------------
# Files go through Django's default storage (FileSystemStorage under MEDIA_ROOT unless STORAGES
# says otherwise); they are served only through the replay views, which check who may watch.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "media/"
RECORDING_ENABLED = env_bool("RECORDING_ENABLED", True)  # off: no room records, whatever its host says
REPLAY_DAYS = env_int("REPLAY_DAYS", 30, minimum=1)  # then the beat task deletes the replay's files
RECORDING_FLUSH_SECONDS = env_float("RECORDING_FLUSH_SECONDS", 2.0, minimum=0.2)  # most a crash loses
RECORDING_QUEUE_FRAMES = env_int("RECORDING_QUEUE_FRAMES", 1500, minimum=10)  # per room, then drop to a key frame
RECORDING_STALE_AFTER = env_int("RECORDING_STALE_AFTER", 30, minimum=5)  # no flush that long: its writer died
RECORDING_SWEEP_INTERVAL = env_int("RECORDING_SWEEP_INTERVAL", 60, minimum=1)
COMPOSE_THREADS = env_int("COMPOSE_THREADS", 1, minimum=1)  # threads of the 4-up MP4's encoder
COMPOSE_NICE = env_int("COMPOSE_NICE", 10, minimum=0)  # niceness the composing worker takes
COMPOSE_FPS = env_int("COMPOSE_FPS", 15, minimum=1)
REPLAY_REQUESTS_BURST = env_int("REPLAY_REQUESTS_BURST", 60, minimum=1)  # replay file requests of one address
REPLAY_REQUESTS_PER_MINUTE = env_int("REPLAY_REQUESTS_PER_MINUTE", 240, minimum=1)

# --- Auth, i18n, static ---------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# English and French, chosen from the browser's Accept-Language (or the switcher's cookie).
# The compiled catalogues (locale/*/LC_MESSAGES/*.mo) are committed: no gettext tools needed.
# Times are stored in UTC; pages show them in the viewer's own time zone (the browser formats them).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.common.CommonMiddleware"), "django.middleware.locale.LocaleMiddleware"
)
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` writes (the cluster launcher points it under var/, where nginx serves it).
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
# After `collectstatic` (production), WhiteNoise serves hashed, compressed files from
# STATIC_ROOT; before it (a laptop, the test suite) it serves them straight from the apps.
STATIC_COLLECTED = (STATIC_ROOT / "staticfiles.json").exists()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED
WHITENOISE_AUTOREFRESH = not STATIC_COLLECTED

# --- Security (production: DEBUG off) -------------------------------------------------------

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Behind a reverse proxy: trust its X-Forwarded-Proto, and take the client address for
# per-address limits from X-Forwarded-For (the rightmost hop not in TRUSTED_PROXIES).
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES={_proxy!r} is not an address or network (10.0.0.0/8)") from None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Cluster: this process's own address, and who may read its metrics -----------------------
# (LIVEROOMS_INTERNAL_URL, above: deploy/cluster.py sets it per daphne, http://127.0.0.1:<port>.)
# `/metrics` answers loopback and private-network clients; anyone else needs this bearer token.
METRICS_TOKEN = env_str("METRICS_TOKEN")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
}

# --- Comments -------------------------------------------------------------------------------

# Each user may post COMMENT_BURST comments at once, then one every 60/COMMENT_RATE_PER_MINUTE s
# in each room; the host and moderators have a bucket of their own, larger.
COMMENT_BURST = env_int("COMMENT_BURST", 5, minimum=1)
COMMENT_RATE_PER_MINUTE = env_int("COMMENT_RATE_PER_MINUTE", 20, minimum=1)
COMMENT_HOST_BURST = env_int("COMMENT_HOST_BURST", 20, minimum=1)
COMMENT_HOST_RATE_PER_MINUTE = env_int("COMMENT_HOST_RATE_PER_MINUTE", 120, minimum=1)

# --- Room sockets: what one client may take -------------------------------------------------

# Sockets one client address may hold open in one room, and room sockets in all, per process.
ROOM_SOCKETS_PER_ADDRESS = env_int("ROOM_SOCKETS_PER_ADDRESS", 20, minimum=1)
ROOM_SOCKETS_PER_PROCESS = env_int("ROOM_SOCKETS_PER_PROCESS", 20000, minimum=1)
# Anonymous sockets of one address counted as viewers (a household, not a script's hundred).
VIEWERS_COUNTED_PER_ADDRESS = env_int("VIEWERS_COUNTED_PER_ADDRESS", 3, minimum=1)
# Frames one socket may send, readable or not: a burst, then a steady rate per second.
SOCKET_FRAME_BURST = env_int("SOCKET_FRAME_BURST", 40, minimum=1)
SOCKET_FRAMES_PER_SECOND = env_float("SOCKET_FRAMES_PER_SECOND", 20.0, minimum=0.01)
# Hearts one socket may send: a burst, then a steady rate per second.
REACTION_BURST = env_int("REACTION_BURST", 20, minimum=1)
REACTIONS_PER_SECOND = env_float("REACTIONS_PER_SECOND", 10.0, minimum=0.01)
# Actions (every frame but hearts) one user may take in a room, across sockets and processes;
# the host and moderators get the STAGE_ figures.
ACTION_BURST = env_int("ACTION_BURST", 10, minimum=1)
ACTIONS_PER_MINUTE = env_int("ACTIONS_PER_MINUTE", 60, minimum=1)
STAGE_ACTION_BURST = env_int("STAGE_ACTION_BURST", 30, minimum=1)
STAGE_ACTIONS_PER_MINUTE = env_int("STAGE_ACTIONS_PER_MINUTE", 300, minimum=1)

# --- Accounts and go-live limits ------------------------------------------------------------
SIGNUPS_PER_ADDRESS_PER_HOUR = env_int("SIGNUPS_PER_ADDRESS_PER_HOUR", 10, minimum=1)
LOGINS_PER_ADDRESS_PER_HOUR = env_int("LOGINS_PER_ADDRESS_PER_HOUR", 60, minimum=1)
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 10, minimum=1)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 900, minimum=1)
ROOMS_LIVE_PER_HOST = env_int("ROOMS_LIVE_PER_HOST", 1, minimum=1)
ROOMS_CREATED_PER_HOUR = env_int("ROOMS_CREATED_PER_HOUR", 10, minimum=1)

# --- Replay page (rooms/views_replay.py) -----------------------------------------------------

# Timeline requests (an open replay page polls every few seconds; a 304 costs one too) one client
# address may make at once, then per minute; past it 429 + Retry-After.
REPLAY_TIMELINE_BURST = env_int("REPLAY_TIMELINE_BURST", 30, minimum=1)
REPLAY_TIMELINE_PER_MINUTE = env_int("REPLAY_TIMELINE_PER_MINUTE", 60, minimum=1)
