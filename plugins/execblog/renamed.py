"""Old module names of Execblog's parts, kept working: each is imported as its new module,
with one warning that names the new name. Settings files (``PLUGINS``, ``MARKDOWN``) and
plugins written before the parts moved (``execblog.fences`` is ``execblog.engine`` now) still
build; the warning says what to write instead."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import logging
import sys
from types import ModuleType

# Old package or module (below ``execblog.``) -> new. A name below an old package maps by
# its longest listed prefix: ``fences.model`` -> ``engine.model``.
RENAMED: dict[str, str] = {
    "fences": "engine",
    "fences.engine": "engine.pipeline",
    "fences.backends": "engine.backends",
    **{f"fences.{name}": f"kernel.{name}"
       for name in ("diagnostics", "site_errors", "contents", "paths")},
    **{f"fences.{name}": f"executors.local.{name}"
       for name in ("pool", "worker", "preload", "capture", "containment", "snapshots",
                    "forking", "memory")},
    "fences.session_loop": "executors.session_loop",
    "fences.lifetime": "engine.lifetime",
    "fences.builtin": "kinds",
    "fences.builtin.local_executor": "executors.local.plugin",
    "fences.builtin.dask_executor": "executors.dask_executor",
    **{f"fences.builtin.{name}_backend": f"backends.{name}_backend"
       for name in ("numpy", "cupy", "torch", "jax")},
    "fences.builtin.after_import": "display.after_import",
    "fences.builtin.display": "display.protocol",
    "fences.builtin.html": "display.html",
    "fences.builtin.mpl": "display.mpl",
    "xmlsafe": "kernel.xmlsafe",
    "langkit": "kinds.languages",
    "callouts": "markdown.callouts",
    "citations": "markdown.citations",
    "xrefs": "markdown.xrefs",
    "mathkit": "markdown.math",
    "pandoc": "markdown.pandoc",
    "feedkit": "formats.feeds",
    "notebooks": "formats.notebooks",
    "notebooks.stored": "kinds.stored",
    "sitefiles": "formats.sitefiles",
    "searchkit": "formats.search",
}
log = logging.getLogger("execblog")


def new_name(name: str) -> str | None:
    """The module an old ``execblog.…`` name now is, or None for a current name."""
    if not name.startswith("execblog."):
        return None
    old = name.removeprefix("execblog.")
    prefixes = [p for p in RENAMED if old == p or old.startswith(p + ".")]
    if not prefixes:
        return None
    prefix = max(prefixes, key=len)
    return f"execblog.{RENAMED[prefix]}{old[len(prefix):]}"


class RenamedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old name as its new module (the same module object, not a copy)."""

    def find_spec(self, name, path, target=None):  # noqa: D102 (importlib's protocol)
        return importlib.util.spec_from_loader(name, self) if new_name(name) else None

    def create_module(self, spec) -> ModuleType:
        new = new_name(spec.name)
        log.warning("execblog: %s is now %s; write the new name (the old one will go)",
                    spec.name, new)
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing: the new module ran when it was imported."""


def install() -> None:
    """Put the finder first on ``sys.meta_path``, once."""
    if not any(isinstance(finder, RenamedFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, RenamedFinder())
