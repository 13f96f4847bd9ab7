"""Other packages' private parts, behind one adapter per package.

A fast path that leans on a package's internals (an attribute its docs never promise, a private
method we replace) silently turns off, or breaks, when that package moves. So each package we
lean on has one adapter here that lists what we need of it (`Need`), checks it all at start-up
(`rooms.apps.RoomsConfig.ready` → `probe_all`), and, when something is gone, logs one WARNING
naming the package's version, the missing names and the public path the code falls back to. The
code that uses the internals asks its adapter (`Adapter.usable()`) before taking the fast path.
`tests/liverooms/test_canary.py` lists every private name relied on and fails, naming it, when one
is missing: that is the test to read when moving a pin (docs/development.md, "Pins").
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Need:
    """One thing we use that the package does not promise: `name` as dotted as it reads."""

    name: str
    present: Callable[[], bool]


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


def _resolve(dotted: str) -> Any:
    """`package.module.Class` (or a module-level name) → the object; raises if it is gone."""
    module_name, _, rest = dotted.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in rest.split(".") if rest else []:
        target = getattr(target, part)
    return target


def class_uses(cls: type, name: str) -> bool:
    """Whether instances of `cls` have `name`: a class attribute, or one its own methods set or read
    (an instance attribute made in `__init__`: its name is in the methods' code)."""
    if hasattr(cls, name):
        return True
    for klass in cls.__mro__:
        for value in vars(klass).values():
            function = getattr(value, "__func__", value)
            code = getattr(function, "__code__", None)
            if isinstance(code, types.CodeType) and name in set(_code_names(code)):
                return True
    return False


def attribute(where: str, name: str) -> Need:
    """`where` is `module:Class` (or `module:Class.Inner`); `name` an attribute of its instances."""

    def present() -> bool:
        cls = _resolve(where)
        return isinstance(cls, type) and class_uses(cls, name)

    return Need(f"{where.replace(':', '.')}.{name}", present)


def defined(where: str) -> Need:
    """A module-level name (or class attribute) that must exist: `module:name` / `module:Class.name`."""

    def present() -> bool:
        _resolve(where)
        return True

    return Need(where.replace(":", "."), present)


def check(name: str, predicate: Callable[[], bool]) -> Need:
    """Anything else we rely on, as a predicate on the real package."""
    return Need(name, predicate)


@dataclass
class Adapter:
    """What one package must still provide for `used_by` to take its fast path."""

    package: str  # the distribution name, for its version
    used_by: str
    fallback: str  # what the code does instead, in words
    needs: list[Need]
    ok: bool | None = field(default=None, init=False)

    @property
    def version(self) -> str:
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return "(not installed)"

    def missing(self) -> list[str]:
        gone = []
        for need in self.needs:
            try:
                present = need.present()
            except Exception:  # an import error, a renamed class: gone all the same
                present = False
            if not present:
                gone.append(need.name)
        return gone

    def probe(self) -> bool:
        """Check every need now; one WARNING if anything is missing. Returns whether all is there."""
        gone = self.missing()
        self.ok = not gone
        if gone:
            logger.warning(
                "%s %s changed: %s no longer there (used by %s); falling back: %s",
                self.package,
                self.version,
                ", ".join(gone),
                self.used_by,
                self.fallback,
            )
        return self.ok

    def usable(self) -> bool:
        """Whether the fast path may run (probed on first use if start-up did not)."""
        if self.ok is None:
            self.probe()
        return bool(self.ok)


def all_adapters() -> list[Adapter]:
    from liverooms.adapters import aiortc_media, autobahn_ws, channels_asgi, daphne_ws, twisted_tcp

    return [daphne_ws.ADAPTER, autobahn_ws.ADAPTER, twisted_tcp.ADAPTER, channels_asgi.ADAPTER, aiortc_media.ADAPTER]


def probe_all() -> dict[str, bool]:
    """Probe every adapter (at start-up): package → whether its fast path is on."""
    return {adapter.package: adapter.probe() for adapter in all_adapters()}
