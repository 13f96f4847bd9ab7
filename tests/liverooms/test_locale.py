"""The French catalogues: every string translated, and the committed .mo files are what the .po
files compile to (a fresh machine has no gettext tools: `make run` serves the committed .mo)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings

MESSAGES = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"


def french() -> ModuleType:
    spec = importlib.util.spec_from_file_location("french", Path(settings.BASE_DIR) / "locale" / "fr.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_it_translates_every_string(domain: str) -> None:
    entries = french().read_po(MESSAGES / f"{domain}.po")
    assert len(entries) > 10
    untranslated = [msgid for msgid, _plural, strs in entries if msgid and not all(strs)]
    assert untranslated == []


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_it_commits_the_compiled_catalogue(domain: str) -> None:
    po = MESSAGES / f"{domain}.po"
    assert (MESSAGES / f"{domain}.mo").read_bytes() == french().compile_mo(po), "run: python locale/fr.py"
