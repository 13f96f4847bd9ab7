"""The import picture between our top-level packages (#19, docs/architecture.md "Layers"): no arrow
runs back up. `rooms` is the lower layer: it owns the room socket, its snapshot, stream and hub,
and the other apps plug into it from their AppConfig.ready; the webhooks app listens to the
stream, and nobody publishes through it. Every import counts, a lazy one inside a function too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

WEBHOOKS = "liverooms.webhooks"
# package -> our packages it must never import (a package forbids its modules too)
FORBIDDEN = {
    "rooms": {"comments", "media", WEBHOOKS},
    "comments": {"media", WEBHOOKS},
    "media": {"comments", WEBHOOKS},
    WEBHOOKS: {"comments", "media"},
}


def modules(path: Path) -> set[str]:
    """The full dotted name of every absolute module `path` imports (`from a import b`: both `a`
    and `a.b`, as b may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and _imports_by_name(node):
            names.add(node.args[0].value)  # type: ignore[attr-defined]
    return names


def imported(path: Path) -> set[str]:
    """The top-level names of every absolute module `path` imports."""
    return {name.split(".")[0] for name in modules(path)}


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _imports_by_name(call: ast.Call) -> bool:
    """`importlib.import_module("x")` or `__import__("x")` with a literal name."""
    name = getattr(call.func, "id", getattr(call.func, "attr", ""))
    first = call.args[0] if call.args else None
    return name in {"import_module", "__import__"} and isinstance(first, ast.Constant) and isinstance(first.value, str)


def arrows_up(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        names = modules(path)
        for forbidden in sorted(FORBIDDEN[package]):
            if any(within(name, forbidden) for name in names):
                found.append(f"{path.relative_to(ROOT)} imports {forbidden}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_runs_back_up(package: str) -> None:
    assert arrows_up(package) == []


# liverooms/ is both layers: its top puts the apps together; every other module is a helper the
# apps share, which imports none of them (docs/architecture.md, "Layers").
LIVEROOMS_TOP = {"asgi.py", "routing.py", "urls.py", "views.py", "settings.py"}
APPS = ("rooms", "comments", "media", WEBHOOKS)


def test_the_project_packages_helpers_import_no_app() -> None:
    found = []
    for path in sorted((ROOT / "liverooms").glob("*.py")):
        if path.name in LIVEROOMS_TOP:
            continue
        names = modules(path)
        found += [f"{path.relative_to(ROOT)} imports {app}" for app in APPS if any(within(n, app) for n in names)]
    assert found == []


def test_the_check_sees_an_arrow_up(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom comments.models import Comment\n"
        "def later():\n    import media.relay\n    from . import sibling\n"
        "    importlib.import_module('comments.pages')\n"
    )
    assert imported(module) == {"os", "comments", "media"}


def test_the_check_sees_the_webhooks_app_however_it_is_named(tmp_path: Path) -> None:
    for line in (
        "from liverooms.webhooks import outbox",
        "from liverooms import webhooks",
        "import liverooms.webhooks.outbox",
        "importlib.import_module('liverooms.webhooks.outbox')",
    ):
        module = tmp_path / "m.py"
        module.write_text(f"import os\nfrom liverooms.errors import ActionError\n{line}\n")
        assert any(within(name, WEBHOOKS) for name in modules(module)), line
    module.write_text("from liverooms.errors import ActionError\nfrom liverooms import env, webhooks_like\n")
    assert not any(within(name, WEBHOOKS) for name in modules(module))
