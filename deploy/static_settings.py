"""Settings for `manage.py collectstatic` only: liverooms' settings with the hashed, compressed
storage, so the run writes `staticfiles.json` (the manifest whose presence tells the servers to
use hashed names; liverooms.settings picks plain storage until it exists, so a plain
`collectstatic` never writes one).

    DJANGO_SETTINGS_MODULE=deploy.static_settings .venv/bin/python manage.py collectstatic --noinput
"""

from liverooms.settings import *  # noqa: F403
from liverooms.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
