"""Loaded by pytest before Django (`-p tests.environment`): test defaults for the environment.

Settings come from environment variables; here the suite supplies the ones production must
set itself. DATABASE_URL / REDIS_URL pass through, so the same suite runs on PostgreSQL + Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Test webhook receivers listen on 127.0.0.1; tests of the address rule turn this off themselves.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE", "1")
os.environ.setdefault("LIVEROOMS_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))
if not os.environ.get("REDIS_URL"):
    # No broker service: tasks run in the calling process.
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
