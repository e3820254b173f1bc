"""The hook contract of the fence engine: every hook a plugin can implement.

A plugin is any module or object with functions decorated by ``fences.hookimpl`` and named
like a hook below. Built-in capabilities (Python execution, matplotlib capture, the NumPy and
CuPy backends, output renderers) are plugins on this contract, registered exactly like a
third-party one: from the ``pelican_fences`` entry-point group or the ``FENCES_PLUGINS``
setting (importable module names).

Where each hook runs matters:

* host: in the Pelican process (collect, cache, render). Never touches CUDA.
* worker: in a session process forked from a warm fork server. Array libraries live here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .backends import ArrayBackend, BackendCandidate, BackendResolver
    from .model import FenceKind, Output, RenderContext

PROJECT = "fences"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def fences_kinds() -> list[FenceKind]:
    """Return fence kinds this plugin provides (host and worker).

    A kind says which fence openers it claims (``python exec``, ``diagram``), which extra
    options it accepts, whether its fences share a session namespace, and how one fence runs
    inside a worker (``FenceKind.run``). The engine core knows no kind by name.
    """


@hookspec
def fences_backend_candidates() -> list[BackendCandidate]:
    """Return array backends this plugin offers (host and worker).

    A candidate has a name (``numpy``), a preference (higher wins for ``backend=auto``),
    a cheap host-side ``installed()`` check that must not import the library, and a
    worker-side ``probe()`` that imports it, checks a device and runs a tiny kernel,
    returning an :class:`ArrayBackend` or raising ``BackendUnavailable`` with the reason.
    """


@hookspec
def fences_session_setup(
    namespace: dict[str, Any], backend: ArrayBackend, backends: BackendResolver
) -> None:
    """Inject names into a session namespace (worker).

    Called before a session's first fence and again whenever a fence asks for another
    backend (``backend=numpy`` after an ``auto`` fence), so names that depend on the backend
    are rebound. ``backends.get(name)`` resolves any other backend (or raises
    ``BackendUnavailable``). The built-in plugin injects ``xp``, ``to_numpy``, ``backend``
    and ``display``.
    """


@hookspec(firstresult=True)
def fences_format_value(value: Any) -> list[Output] | None:
    """Turn a displayed value into outputs, or return None to let the next plugin try (worker).

    Called for ``display(obj)`` and for a fence's trailing expression. The built-in
    implementation follows the IPython display protocol; the matplotlib plugin claims
    ``Figure`` objects.
    """


@hookspec
def fences_capture_outputs(namespace: dict[str, Any], options: dict[str, Any]) -> list[Output]:
    """Return outputs left behind at the end of a fence, in order (worker).

    The matplotlib plugin returns every figure still open, rendered in the fence's
    ``fig-format``, and closes them. ``options`` are the fence's validated options.
    """


@hookspec(firstresult=True)
def fences_render_output(output: Output, context: RenderContext) -> str | None:
    """Return the HTML for one output, or None to let the next plugin try (host).

    ``output.mime`` names the payload type (``text/plain``, ``text/html``,
    ``image/svg+xml``, ``image/png``, ``text/markdown``, ``application/vnd.fences.stream``,
    ``application/vnd.fences.error``...). ``context`` gives the fence, its options, and
    ``context.link(blob)`` which writes a binary payload under the output tree with a
    content-hashed name and returns a ``{static}``-style link that Pelican rewrites per
    page and per feed.
    """


@hookspec
def fences_build_finished(report: dict[str, Any]) -> None:
    """Receive the build report once every fence is resolved (host).

    ``report`` is the dict written to ``FENCES_REPORT``: ``{"fences": [...], "summary":
    {...}}``. Use it to publish timings, fail a CI job, or notify.
    """
