"""The fence engine: the hook contract, and a fence's way through a build on the host.

``hookspecs`` is the contract every plugin implements; ``model``, ``options`` and
``settings`` are what it speaks of. ``collect`` finds fences while Pelican reads a post,
``cache`` keeps results by key, ``pipeline`` runs what is missing on the executor while
Pelican reads on, ``render`` and ``figures`` put results into pages, ``report`` closes the
build; ``pelican_glue`` connects it to Pelican. Kinds, backends and executors are plugins,
registered through the ``pelican_fences`` entry points; it names none of them, except that
it starts the default (local) executor's fork server before the plugins load.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .hookspecs import Executor, Session, hookimpl  # noqa: E402  (the public API)

__all__ = ["Executor", "Session", "hookimpl", "register", "__version__"]


def register() -> None:
    """Pelican entry point: connect the engine to Pelican's signals."""
    from .pelican_glue import connect

    _make_importable()
    connect()


def _make_importable() -> None:
    """Pelican loads plugins from PLUGIN_PATHS without touching sys.path; the engine's
    sibling packages (execblog.diagrams, execblog.benchtables) and its fork server import
    by name, so put the folder that holds ``execblog`` on sys.path here and on PYTHONPATH
    for child processes."""
    import os
    import sys

    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if here not in sys.path:
        sys.path.append(here)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if here not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([*paths, here])
