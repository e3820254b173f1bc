"""The pluggy plugin manager: built-ins, entry points and settings, all registered alike."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "pelican_fences"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "execblog.fences.builtin.python_kind",
    "execblog.fences.builtin.diagram_kind",
    "execblog.fences.builtin.display",
    "execblog.fences.builtin.mpl",
    "execblog.fences.builtin.numpy_backend",
    "execblog.fences.builtin.cupy_backend",
    "execblog.fences.builtin.torch_backend",
    "execblog.fences.builtin.jax_backend",
    "execblog.fences.builtin.html",
    "execblog.fences.builtin.local_executor",
    "execblog.fences.builtin.dask_executor",
    "execblog.benchtables.hooks",
)


@functools.cache
def _cached(extra: tuple[str, ...]) -> pluggy.PluginManager:
    return _build(extra)


def make_manager(extra: Iterable[str] = ()) -> pluggy.PluginManager:
    """A manager with every plugin; a misspelled hook implementation fails loudly.

    Built once per process and plugin list: the fork server builds it, and every session
    forked from it inherits it instead of scanning entry points again.
    """
    return _cached(tuple(extra))


def _build(extra: tuple[str, ...]) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in (*BUILTIN_PLUGINS, *extra):
        if pm.get_plugin(name) is None:
            pm.register(importlib.import_module(name), name=name)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    pm.check_pending()
    return pm
