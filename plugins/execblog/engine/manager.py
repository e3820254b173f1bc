"""The pluggy plugin manager: every plugin, built-in or not, registers through one path.

Plugins are modules named in the ``pelican_fences`` entry-point group of any installed
distribution. Execblog's own capabilities (the python and diagram kinds, display, matplotlib,
the NumPy, CuPy, PyTorch and JAX backends, the renderers, the local and Dask executors, the
benchmark API, the language kinds, notebooks) are entries of that group in its own
``pyproject.toml``, exactly as a third party's would be. A plugin that is not packaged (a
module next to the blog) is named in the ``FENCES_PLUGINS`` setting instead.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "pelican_fences"
DISTRIBUTION = "execblog"


class PluginsMissing(RuntimeError):
    """Execblog's own entry points are not installed (the package was not installed)."""


@functools.cache
def _cached(extra: tuple[str, ...]) -> pluggy.PluginManager:
    return _build(extra)


def make_manager(extra: Iterable[str] = ()) -> pluggy.PluginManager:
    """A manager with every plugin; a misspelled hook implementation fails loudly.

    Built once per process and plugin list: the fork server builds it, and every session
    forked from it inherits it instead of scanning entry points again.
    """
    return _cached(tuple(extra))


def plugin_entry_points() -> list[EntryPoint]:
    """The group's entry points: Execblog's own first, then other distributions', each by
    name, so the registration order (and so which implementation pluggy calls first) does
    not depend on the order packages were installed in."""
    found = list(entry_points(group=ENTRY_POINT_GROUP))
    return sorted(found, key=lambda ep: (_distribution(ep) != DISTRIBUTION, ep.name))


def _distribution(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return (dist.metadata["Name"] or "").lower() if dist is not None else ""


def _build(extra: tuple[str, ...]) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for ep in plugin_entry_points():
        if pm.get_plugin(ep.name) is None:
            pm.register(ep.load(), name=ep.name)
    if not any(_distribution(ep) == DISTRIBUTION for ep in plugin_entry_points()):
        raise PluginsMissing(
            f"no {ENTRY_POINT_GROUP!r} entry points of the {DISTRIBUTION!r} distribution: "
            "install the package (pip install -e . in a checkout) so its plugins register")
    for name in extra:
        if pm.get_plugin(name) is None:
            pm.register(importlib.import_module(name), name=name)
    pm.check_pending()
    return pm
