"""The hook contract of the fence engine: every hook a plugin can implement.

A plugin is any module or object with functions decorated by ``execblog.engine.hookimpl``
and named like a hook below. Built-in capabilities (Python execution, matplotlib capture, the
NumPy, CuPy, PyTorch and JAX backends, output renderers, the local and Dask executors) are
plugins on this contract, registered exactly like a third-party one: from the
``pelican_fences`` entry-point group, or, for a module that is not packaged, the
``FENCES_PLUGINS`` setting (importable module names).

Each hook below says, in this order: where it runs, every argument, what it returns and how
results combine, the built-in plugins that implement it, and a short example.

* host: in the Pelican process (collect, cache, render). Never touches CUDA.
* worker: in a session process forked from a warm fork server. Array libraries live here.

Arguments are opt-in (pluggy's rule): an implementation names only the arguments it wants,
so a hook can gain an argument without breaking existing plugins. ``settings`` means one
thing in every hook: the site's settings as plain data, each upper-case Pelican setting
whose value is JSON (so it can travel to any worker), e.g. ``settings["SITEURL"]`` or a
plugin's own ``MYPLUGIN_OPTION``. ``fences_executor`` also gets ``engine``, the engine's
checked settings (``execblog.engine.settings.EngineSettings``).
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pluggy

if TYPE_CHECKING:
    from execblog.engine.backends import ArrayBackend, BackendCandidate, BackendResolver

    from .model import Fence, FenceKind, FenceResult, Output, RenderContext
    from .settings import EngineSettings

PROJECT = "fences"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@runtime_checkable
class Session(Protocol):
    """What a fence kind's ``run(fence, session)`` receives (worker): the running session.

    * ``namespace``: the session's globals (a real ``__main__`` module's dict), shared by
      its fences in order; ``fences_session_setup`` fills it.
    * ``fence``: the fence being run (its ``code``, ``exec_code`` padded to post lines,
      ``options``, ``source`` path in the content folder, ``line``). ``fence.options`` is a
      frozen :class:`execblog.engine.model.FenceOptions`, built once from the kind's option
      table with Quarto's aliases resolved and each value parsed: read it by attribute,
      dashes as underscores (``fence.options.fig_subcap``, ``fence.options.flags``); a
      name the kind does not take raises AttributeError naming the valid ones.
    * ``backend``: the bound :class:`ArrayBackend`, or None for kinds that use none.
    * ``emit(output)``: add an output after whatever the fence printed so far (outputs are
      bounded: huge text is cut with a notice).
    * ``display(value)``: show a value through ``fences_format_value``, as ``display()``
      does in a fence.
    * ``workdir``: a private folder for files the session makes (compiled programs); it is
      removed with the session, however the session ends.
    * ``label(record)``: say what made the result when no array backend did (a compiler,
      a GPU): ``name``, ``label`` (shown beside the outputs), ``device``, ``gpu``,
      ``versions`` and, for kinds with a ``FenceKind.toolchain``, its ``toolchain``
      identity, which the host compares on a cache hit.

    Raise ``execblog.engine.model.FenceError(message, line)`` for a located failure without a
    traceback; any other exception is shown as a traceback trimmed to the post.
    """

    namespace: dict[str, Any]
    fence: Fence | None
    backend: ArrayBackend | None

    def emit(self, output: Output) -> None: ...

    def display(self, value: Any) -> None: ...

    @property
    def workdir(self) -> str: ...

    def label(self, record: dict[str, Any]) -> None: ...


@runtime_checkable
class Executor(Protocol):
    """Where sessions run. The engine (host) calls, in this order:

    * ``start()``: get ready early (the local executor starts its fork server while Pelican
      is still reading posts); may be called more than once, and never at all.
    * ``submit(fences)``: run one session (a post's fences of one session, in order) and
      return a Future of exactly one :class:`FenceResult` per fence. Implementations drive
      the session with ``execblog.executors.session_loop.run_session`` so timeouts, skipping after a
      failure and messages behave the same everywhere; the future must not raise for
      anything a fence does (a crash is a result with status ``crashed``).
    * ``probe()``: which backend ``auto`` gives where sessions run, as
      ``(ArrayBackend.describe() or None, [reasons other backends were passed over])``.
    * ``cancel()``: the build was interrupted. Drop queued sessions and kill running ones at
      once; called from a signal handler, so it must not block.
    * ``shutdown()``: the build is over; wait for what is still running and release
      everything.

    The host owns the cache: an executor never writes it, and results of a session that did
    not finish are never cached.

    An executor that can also resume sessions from snapshots is a
    :class:`ResumableExecutor` as well.
    """

    name: str

    def start(self) -> None: ...

    def submit(self, fences: list[Fence]) -> Future[list[FenceResult]]: ...

    def probe(self) -> tuple[dict[str, Any] | None, list[str]]: ...

    def cancel(self) -> None: ...

    def shutdown(self) -> None: ...


@runtime_checkable
class ResumableExecutor(Executor, Protocol):
    """An :class:`Executor` that outlives one build (the preview holds one: see
    ``execblog.engine.lifetime``) and resumes edited sessions from parked snapshots. The
    engine uses these only once ``snapshots`` is not None:

    * ``enable_snapshots()``: called once by ``execblog.engine.lifetime`` on a held executor;
      from then on ``snapshots`` is set (the local executor's
      ``execblog.executors.local.snapshots.SnapshotStore``).
    * ``resume(fences, reusable, inputs)``: run a session whose first ``reusable`` fences
      have cached results from the latest parked snapshot among them (else from the start),
      returning a Future of ``execblog.executors.local.pool.Resumed`` (``start``: the first fence
      run, ``results`` from there, ``note``: why it started earlier than the edit, once).
    * ``prime(fences, inputs)``: run a fully cached session in the background only to park
      its snapshots; nothing it returns is kept. None when there is nothing to prime.
    """

    snapshots: Any

    def enable_snapshots(self) -> None: ...

    def resume(self, fences: list[Fence], reusable: int, inputs: list[Any]) -> Future[Any]: ...

    def prime(self, fences: list[Fence], inputs: list[Any]) -> Future[Any] | None: ...


@hookspec(firstresult=True)
def fences_executor(settings: dict[str, Any], engine: EngineSettings) -> Executor | None:
    """Return the :class:`Executor` that runs this build's sessions, or None to pass.

    Where: host, once per build (or once per preview, which keeps it while settings hold).

    Arguments:
        ``settings``: the site's settings as plain data, as every hook gets them (an
        executor passes them on to its workers).
        ``engine``: the engine's checked settings
        (``execblog.engine.settings.EngineSettings``): ``engine.executor`` is
        ``FENCES_EXECUTOR`` (``"local"`` by default; a scheduler address such as
        ``"tcp://host:8786"`` for a cluster), ``engine.workers``, ``engine.timeout``,
        ``engine.plugins``, ``engine.memory``.

    Returns: an :class:`Executor`, or None. firstresult: the first plugin that returns one
    wins; when none does, the build stops with an error naming ``FENCES_EXECUTOR``.

    Built-ins: ``execblog.executors.local.plugin`` (answers last, only for
    ``"local"``), ``execblog.executors.dask_executor`` (``tcp://``, ``tls://``...).

    Example::

        @hookimpl
        def fences_executor(settings, engine):
            if engine.executor.startswith("ssh://"):
                return SshExecutor(engine.executor, engine.workers, settings)
            return None
    """


@hookspec
def fences_kinds() -> list[FenceKind]:
    """Return the fence kinds this plugin provides.

    Where: host (collect, cache keys, toolchains, notebooks) and worker (``FenceKind.run``).

    Arguments: none.

    Returns: a list of :class:`execblog.engine.model.FenceKind`; every plugin's lists are
    joined. A kind says which fence openers it claims (``python exec``, ``diagram``,
    ``cpp exec`` and its alias ``c++ exec``), which extra options it accepts and how its
    option lines start (``#|``, ``//|``), whether its fences share a session namespace and
    which one (``session_for``), what toolchain runs it here (``toolchain``: a compiler's
    identity, compared on cache hits; a missing one is reported once), how one fence
    runs inside a worker (``run(fence, session)``, with a :class:`Session`), and how its
    fences appear in a post's notebook (``notebook_cell``: the code cell's language,
    ``"python"``, or ``"bash"`` for a ``%%bash`` cell; None, the default, for a Markdown cell
    with the code and its outputs). The engine core and the notebook writer know no kind by
    name.

    Built-ins: ``execblog.kinds.python_kind``, ``execblog.kinds.diagram_kind``,
    ``execblog.kinds.languages.bash``, ``.c``, ``.cpp``, ``.rust``, ``.cuda``.

    Example::

        def run_shout(fence, session):
            session.emit(Output("text/plain", fence.code.upper()))

        @hookimpl
        def fences_kinds():
            return [FenceKind(name="shout", language="shout", run=run_shout,
                              uses_backend=False)]
    """


@hookspec
def fences_backend_candidates() -> list[BackendCandidate]:
    """Return the array backends this plugin offers.

    Where: host (``installed()``, the names ``backend=`` accepts) and worker (``probe()``).

    Arguments: none.

    Returns: a list of :class:`execblog.engine.backends.BackendCandidate`; every plugin's
    lists are joined. A candidate has a ``name`` (``numpy``; ``backend=NAME`` and
    ``FENCES_BACKEND`` accept it), a display name ``pretty`` (``NumPy``; the name when
    empty), a ``preference`` (higher wins for ``backend=auto``; below NumPy's, 0, it is
    never picked by ``auto``, only by name), a cheap host-side ``installed()`` check that
    must not import the library, and a worker-side ``probe()`` that imports it, checks a
    device and runs a tiny kernel, returning an :class:`ArrayBackend` or raising
    ``BackendUnavailable`` with the reason. The backend carries what is shown and measured:
    ``pretty``, ``is_gpu``, ``device``, ``where``, ``versions`` (display name -> version)
    and ``timer``, which benchmarks call to time a thunk (``WallClock`` by default; CuPy's
    and PyTorch's use CUDA events, JAX's waits with ``block_until_ready``). Optional:
    ``gpu=True`` when it may compute on a GPU (a cluster executor then sends the sessions
    that ask for it to GPU workers); ``tracker``, a factory of
    :class:`execblog.engine.backends.UsageTracker`, which labels every fence that computed
    with the library whatever its ``backend=``; ``warm``, which imports the library without
    touching a device, in the fork server, for the names in ``FENCES_PRELOAD``.

    Built-ins: ``execblog.backends.numpy_backend`` (0), ``.cupy_backend`` (10),
    ``.torch_backend`` and ``.jax_backend`` (-10: by name only).

    Example (a backend on another array library, used with ``backend=mylib``)::

        @hookimpl
        def fences_backend_candidates():
            return [BackendCandidate(
                name="mylib", pretty="MyLib", preference=-5,
                installed=lambda: importlib.util.find_spec("mylib") is not None,
                probe=lambda: ArrayBackend(name="mylib", xp=importlib.import_module("mylib"),
                                           device=cpu_name(), where="CPU"))]
    """


@hookspec
def fences_session_setup(
    namespace: dict[str, Any], backend: ArrayBackend, backends: BackendResolver,
    settings: dict[str, Any],
) -> None:
    """Inject names into a session's namespace.

    Where: worker, before a session's first fence and again whenever a fence asks for
    another backend (``backend=numpy`` after an ``auto`` fence), so names that depend on the
    backend are rebound.

    Arguments:
        ``namespace``: the session's globals (a real ``__main__`` module's dict).
        ``backend``: the session's backend, a :class:`execblog.engine.backends.LazyBackend`:
        it reads like an :class:`ArrayBackend`, but ``auto`` is resolved only when something
        first asks it for an attribute (``backend.xp`` is a stand-in module until then), so
        keep it rather than reading its attributes here.
        ``backends``: the :class:`BackendResolver`; ``backends.get(name)`` resolves any other
        backend (or raises ``BackendUnavailable``).
        ``settings``: the site's plain settings.

    Returns: nothing (every implementation is called).

    Built-ins: ``execblog.display.protocol`` (``xp``, ``to_numpy``, ``backend``,
    IPython's ``display``), ``execblog.display.mpl`` (deterministic matplotlib),
    ``execblog.benchtables.hooks`` (``benchmark``).

    Example::

        @hookimpl
        def fences_session_setup(namespace, settings):
            namespace["SITE"] = settings.get("SITENAME")
    """


@hookspec(firstresult=True)
def fences_format_value(
    value: Any, options: dict[str, Any], settings: dict[str, Any]
) -> list[Output] | None:
    """Turn a displayed value into outputs, or return None to let the next plugin try.

    Where: worker, for ``display(obj)`` and for a fence's trailing expression.

    Arguments:
        ``value``: the object displayed.
        ``options``: the running fence's :class:`execblog.engine.model.FenceOptions`, read
        by attribute (the matplotlib plugin renders a displayed figure in its
        ``fig-format``: ``getattr(options, "fig_format", None)``, since only kinds that
        draw figures take it; empty when no fence is running).
        ``settings``: the site's plain settings.

    Returns: a list of :class:`execblog.engine.model.Output` (may be empty: show nothing), or
    None to pass. firstresult: the first plugin that returns a list wins.

    Built-ins: ``execblog.display.mpl`` (matplotlib ``Figure`` objects),
    ``execblog.display.protocol`` (the IPython display protocol, last).

    Example::

        @hookimpl
        def fences_format_value(value):
            if isinstance(value, Quaternion):
                return [Output("text/plain", value.pretty())]
            return None
    """


@hookspec
def fences_capture_outputs(
    namespace: dict[str, Any], options: dict[str, Any], settings: dict[str, Any]
) -> list[Output]:
    """Return outputs left behind at the end of a fence, in order.

    Where: worker, after each fence ran (also after one that failed).

    Arguments:
        ``namespace``: the session's globals.
        ``options``: the fence's :class:`execblog.engine.model.FenceOptions` (by attribute).
        ``settings``: the site's plain settings.

    Returns: a list of :class:`execblog.engine.model.Output`; every plugin's lists are
    appended to the fence's outputs. An exception fails the fence (nothing is cached).

    Built-ins: ``execblog.display.mpl`` (every figure still open, rendered in the
    fence's ``fig-format``, then closed).

    Example::

        @hookimpl
        def fences_capture_outputs(namespace):
            log = namespace.pop("training_log", None)
            return [Output("text/plain", "\\n".join(log))] if log else []
    """


@hookspec(firstresult=True)
def fences_render_output(
    output: Output, context: RenderContext, settings: dict[str, Any]
) -> str | None:
    """Return the HTML for one output, or None to let the next plugin try.

    Where: host, once per output of every fence (run or cached) on every build.

    Arguments:
        ``output``: the :class:`execblog.engine.model.Output`; ``output.mime`` names the
        payload type (``text/plain``, ``text/html``, ``image/svg+xml``, ``image/png``,
        ``text/markdown``, ``application/vnd.fences.stream``,
        ``application/vnd.fences.error``...), ``output.data`` the payload and
        ``output.meta`` what came with it.
        ``context``: a :class:`execblog.engine.model.RenderContext`: the fence, its result,
        ``context.link(blob, ext)`` which writes a binary payload under the output tree with
        a content-hashed name and returns a ``{static}``-style link that Pelican rewrites
        per page and per feed, and ``context.markdown(text)``.
        ``settings``: the site's plain settings.

    Returns: an HTML string, or None to pass. firstresult: the first string wins. An element
    that feeds must treat apart declares its role with ``data-feed`` (build it with
    :func:`execblog.engine.model.feed_role`): ``drop`` (page only: controls, a dark
    variant), ``feed-only`` (hidden on the page, shown in feeds) or ``static`` (feeds keep
    it without its ``data-*`` attributes). Feeds read nothing else of the HTML's classes.

    Built-ins: ``execblog.kinds.diagram_kind`` (diagram SVG),
    ``execblog.display.html`` (every standard mime type, last).

    Example::

        @hookimpl
        def fences_render_output(output):
            if output.mime == "text/x-shout":
                return f"<p class='shout'>{html.escape(output.data)}!</p>"
            return None
    """


@hookspec
def fences_post_rendered(
    post: Any, fences: list[Fence], results: list[FenceResult], settings: dict[str, Any]
) -> None:
    """See one post's fences and results right after they were rendered into it.

    Where: host, once per article or page that has engine fences, at Pelican's
    ``all_generators_finalized``, before any page or feed is written.

    Arguments:
        ``post``: Pelican's content object (``post.source_path``, ``post.save_as``,
        ``post.url``, ``post._content`` with the fences' HTML in place).
        ``fences``: its :class:`execblog.engine.model.Fence` objects, in order; a fence
        with ``params`` comes as a copy whose ``code`` starts with a line binding its
        default state's values (``lr = 0.01; momentum = 0.9``), as a notebook must run it.
        ``results``: their :class:`execblog.engine.model.FenceResult` (same order; cached
        results too; for a fence with ``params``, its default state's).
        ``settings``: the site's plain settings.

    Returns: nothing (every implementation is called). A plugin may write files under
    ``settings["OUTPUT_PATH"]`` (a notebook of the post), set attributes on ``post`` for
    the theme (``post.notebook_url``), or amend ``post._content``.

    Built-ins: ``execblog.formats.notebooks`` (each post as a ``.ipynb``).

    Example::

        @hookimpl
        def fences_post_rendered(post, results):
            post.fence_seconds = sum(r.seconds for r in results)
    """


@hookspec
def fences_build_finished(report: dict[str, Any], settings: dict[str, Any]) -> None:
    """Receive the build report once every fence is resolved.

    Where: host, once per build, after the report is written.

    Arguments:
        ``report``: the dict written to ``FENCES_REPORT``: ``{"fences": [...], "summary":
        {...}, "build_id": ...}``; a fence with ``params`` has one entry per state, each
        with its values (``"params": {"lr": 0.01}``).
        ``settings``: the site's plain settings.

    Returns: nothing (every implementation is called). Use it to publish timings, fail a CI
    job, or notify.

    Built-ins: none (the engine writes the report itself).

    Example::

        @hookimpl
        def fences_build_finished(report):
            if report["summary"]["failed"]:
                print("::warning::some fences failed")
    """
