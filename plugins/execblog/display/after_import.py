"""Patch a module right after it is first imported, without importing it ahead of time.

Used where a fence's namespace needs a library adjusted (``matplotlib.pyplot.show``,
IPython's ``display``) only if the fence imports that library: importing it up front would
cost every session its import time.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable
from typing import Any


class AfterImport(importlib.abc.MetaPathFinder):
    """Runs ``patch(module)`` right after the module named ``fullname`` is first executed."""

    def __init__(self, fullname: str, patch: Callable[[Any], None]):
        self.fullname, self.patch = fullname, patch

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.fullname:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run, patch = loader.exec_module, self.patch

        def exec_module(module: Any) -> None:
            run(module)
            patch(module)

        loader.exec_module = exec_module  # this spec's own loader object
        return spec


def patch_after_import(fullname: str, patch: Callable[[Any], None]) -> None:
    """Call ``patch(module)`` once ``fullname`` is imported (installed once per name)."""
    if not any(isinstance(f, AfterImport) and f.fullname == fullname for f in sys.meta_path):
        sys.meta_path.insert(0, AfterImport(fullname, patch))
