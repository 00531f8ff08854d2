"""Free-threaded builds: notice when the GIL comes back on, and name the import that did it.

On a free-threaded CPython, importing an extension module that does not declare
free-threading support turns the GIL on for the rest of the process (CPython also
emits a RuntimeWarning naming it). Any test, fixture or collected module can do that
mid-session, so the state is checked after collection, before each item's rounds and
after every round (always outside the timed window), and rows record it per round. The
module is named by difference: the extension modules that appeared in ``sys.modules``
since the last check that still saw the GIL disabled, the standard library's own aside
(the plugin loads parts of itself late, and with them modules such as ``_interpreters``).
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import final

from .environment import free_threaded_build, gil_enabled


def is_extension(module: object) -> bool:
    """Whether ``module`` was loaded from a shared library (only those can enable the GIL)."""
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) or getattr(module, "__file__", None)
    return isinstance(origin, str) and origin.endswith(
        tuple(importlib.machinery.EXTENSION_SUFFIXES)
    )


def could_enable_gil(module: object) -> bool:
    """Whether ``module`` is an extension from outside the interpreter's own standard
    library: CPython's own extension modules (``lib-dynload``) all declare free-threading
    support on a free-threaded build, so they are never the import that turned it on."""
    if not is_extension(module):
        return False
    import sysconfig

    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) or getattr(module, "__file__", None)
    # the base interpreter's, not a virtual environment's (which has no lib-dynload)
    base = {"platbase": sys.base_exec_prefix, "installed_platbase": sys.base_exec_prefix}
    dynload = os.path.join(sysconfig.get_path("platstdlib", vars=base), "lib-dynload")
    return os.path.dirname(os.path.abspath(str(origin))) != os.path.abspath(dynload)


def gil_requested() -> bool:
    """Whether the user asked for the GIL (``PYTHON_GIL=1`` or ``-X gil=1``)."""
    options: Mapping[str, object] = getattr(sys, "_xoptions", {})
    return os.environ.get("PYTHON_GIL") == "1" or str(options.get("gil")) == "1"


@dataclass(frozen=True, slots=True)
class GilChange:
    """The GIL went on (or off) between two checks."""

    enabled: bool
    where: str
    #: extension modules first seen in ``sys.modules`` since the previous check
    suspects: tuple[str, ...]

    def message(self) -> str:
        if not self.enabled:
            return (
                f"the GIL was disabled during {self.where}; rows from here on record "
                f"gil_enabled=False"
            )
        if len(self.suspects) == 1:
            cause = f"importing {self.suspects[0]!r} did it"
        elif self.suspects:
            cause = "one of these extension modules, imported then, did it: " + ", ".join(
                repr(name) for name in self.suspects
            )
        else:
            cause = (
                "no extension module imported since the last check is still loaded (an "
                "import that failed may have done it)"
            )
        return (
            f"the GIL was enabled during {self.where}: {cause}. An extension module that "
            f"does not declare free-threading support turns the GIL on for the rest of the "
            f"process, and CPython's own RuntimeWarning names it. Rows from here on record "
            f"gil_enabled=True; PYTHON_GIL=0 keeps the GIL off, at your own risk."
        )


@final
class GilWatch:
    """The GIL state last seen, and the modules loaded then (kept only while it is off)."""

    def __init__(
        self,
        *,
        probe: Callable[[], bool] = gil_enabled,
        modules: Callable[[], Mapping[str, object]] = lambda: sys.modules.copy(),
    ) -> None:
        self._probe = probe
        self._modules = modules
        self._enabled = probe()
        self._known = self._loaded() if not self._enabled else frozenset()

    @property
    def enabled(self) -> bool:
        return self._enabled

    def rewind(self, enabled: bool, modules: frozenset[str]) -> None:
        """Take an earlier state as the last one seen: the session's start, when the watch
        is made later (at the first experiment, which collection may have imported)."""
        self._enabled = enabled
        self._known = modules if not enabled else frozenset()

    def _loaded(self) -> frozenset[str]:
        return frozenset(self._modules())

    def check(self, where: str) -> GilChange | None:
        """Compare with the last check; a change names the extension modules new since then."""
        now = self._probe()
        if now == self._enabled:
            if not now:  # with the GIL on (every GIL build) there is nothing to keep
                self._known = self._loaded()
            return None
        suspects: tuple[str, ...] = ()
        if now:
            loaded = self._modules()
            suspects = tuple(
                sorted(
                    name for name in loaded.keys() - self._known if could_enable_gil(loaded[name])
                )
            )
        self._enabled = now
        self._known = self._loaded() if not now else frozenset()
        return GilChange(enabled=now, where=where, suspects=suspects)


def enabled_before_session() -> str | None:
    """On a free-threaded build whose GIL is already on though nobody asked: why it matters."""
    if not free_threaded_build() or not gil_enabled() or gil_requested():
        return None
    return (
        "this free-threaded build started the session with the GIL enabled: an extension "
        "module imported before the session (by a plugin, a conftest.py or -p) does not "
        "declare free-threading support; CPython's RuntimeWarning at that import names it. "
        "Every row will record gil_enabled=True; PYTHON_GIL=0 keeps the GIL off, at your "
        "own risk."
    )
