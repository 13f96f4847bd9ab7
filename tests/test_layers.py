"""The import picture between our top-level packages (#19, docs/architecture.md "Layers"): no arrow
runs back up. `rooms` is the lower layer: it owns the room socket, its snapshot, stream and hub,
and the other apps plug into it from their AppConfig.ready. Every import counts, a lazy one inside
a function too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> our packages it must never import
FORBIDDEN = {
    "rooms": {"comments", "media"},
    "comments": {"media"},
    "media": {"comments"},
}


def imported(path: Path) -> set[str]:
    """The top-level names of every absolute module `path` imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and _imports_by_name(node):
            names.add(node.args[0].value.split(".")[0])  # type: ignore[attr-defined]
    return names


def _imports_by_name(call: ast.Call) -> bool:
    """`importlib.import_module("x")` or `__import__("x")` with a literal name."""
    name = getattr(call.func, "id", getattr(call.func, "attr", ""))
    first = call.args[0] if call.args else None
    return name in {"import_module", "__import__"} and isinstance(first, ast.Constant) and isinstance(first.value, str)


def arrows_up(package: str) -> list[str]:
    forbidden = FORBIDDEN[package]
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in sorted(imported(path) & forbidden):
            found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_runs_back_up(package: str) -> None:
    assert arrows_up(package) == []


def test_the_check_sees_an_arrow_up(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom comments.models import Comment\n"
        "def later():\n    import media.relay\n    from . import sibling\n"
        "    importlib.import_module('comments.pages')\n"
    )
    assert imported(module) == {"os", "comments", "media"}
