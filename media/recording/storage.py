"""Where recordings are written: Django's default storage, through a local file while open.

PyAV writes to a local path. With a FileSystemStorage (the default, under MEDIA_ROOT) that path
is the file's final place. With any other storage (S3 and the like) the recording is written to a
spool folder on this machine (VAR_DIR/recording-spool) and saved to the storage when it closes;
a spooled file a crash left behind is recovered on this machine.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage

logger = logging.getLogger(__name__)


def is_local() -> bool:
    return isinstance(default_storage, FileSystemStorage)


def spool_dir() -> Path:
    return Path(settings.VAR_DIR) / "recording-spool"


def local_path(name: str) -> Path:
    """The local file that holds `name` while it is written (its final place on a folder storage)."""
    path = Path(default_storage.path(name)) if is_local() else spool_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def new_name(name: str) -> str:
    """A free storage name like `name` (the storage's rules for valid names and collisions)."""
    return default_storage.get_available_name(default_storage.generate_filename(name))


def publish(name: str, path: Path) -> str:
    """The closed file at `path` is final: on a folder storage it already is; else upload it and
    drop the spool copy. Returns the storage name."""
    if is_local():
        return name
    with path.open("rb") as handle:
        saved = default_storage.save(name, File(handle))
    path.unlink(missing_ok=True)
    return saved


def size_of(name: str) -> int:
    try:
        return int(default_storage.size(name))
    except (OSError, NotImplementedError):
        return 0


def delete_file(name: str) -> None:
    try:
        default_storage.delete(name)
    except OSError:
        logger.exception("could not delete %s", name)
    if not is_local():
        with contextlib.suppress(OSError):
            os.unlink(spool_dir() / name)
