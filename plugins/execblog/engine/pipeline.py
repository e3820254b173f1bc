"""The engine: plan fences as posts are read, resolve them against the cache, run what is
missing on the executor (``fences_executor``) while Pelican keeps reading, then render and
report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from execblog.engine.backends import AUTO, FALLBACK_PREFERENCE, BackendCandidate, request_names
from execblog.engine.lifetime import holding as lifetime_holding
from execblog.kernel.contents import content_objects, forget_memoized_content
from execblog.kernel.diagnostics import emit
from execblog.kernel.store import CacheWriteError

from . import __version__
from .cache import Cache
from .collect import FenceExtension, placeholder
from .hookspecs import Executor, ResumableExecutor
from .manager import make_manager
from .model import (
    CACHED,
    CRASHED,
    ERROR,
    EXPECTED_ERROR,
    FAILED,
    FAILURES,
    NOT_RUN,
    RAN,
    SKIPPED,
    TIMEOUT,
    Fence,
    FenceKind,
    FenceResult,
    Output,
)
from .options import kind_specs, result_options
from .params import (
    DEFAULT_LIMIT,
    Grid,
    bind,
    check_limit,
    check_shared,
    describe,
    grid_of,
    state_id,
    state_key,
)
from .params_states import StateRun, option_line, params_limit, render_grid, state_entries
from .render import Renderer
from .report import build_report, report_path, summary_line, write_report
from .settings import SettingsError
from .settings import read as read_settings

# In a preview, cached sessions whose fences took at least this long together are run once
# in the background to park their snapshots (Engine._prime).
PRIME_SECONDS = 0.5


class FencesFailed(SystemExit):
    """Ends a strict build with failing fences: exit status 1 and one line, no traceback.

    Each failure was already logged with its location; a traceback of the engine would
    only bury them.
    """


class Engine:
    def __init__(self, settings: dict[str, Any], output_path: str):
        self.settings = settings
        self.output_path = output_path
        self.content_root = settings["PATH"]
        self.checked = checked = read_settings(settings)
        self.mode = checked.mode
        self.strict = checked.strict
        self.build_id = checked.build_id
        self.plugins = list(checked.plugins)
        self.cache = Cache(checked.cache_path)
        self.report_path = report_path(settings, self.cache.root)
        last = _last_seconds(self.report_path)  # {}: no report, or no fence ran in it
        # likely work ahead: warm up while Pelican reads (a post changed since the last
        # report, or none was written; or fences ran last time and the cache is now empty)
        early = self.mode == "rerun" or (self.mode == "run" and (
            _edited_since(self.content_root, self.report_path)
            or bool(last and self.cache.holds_nothing())))
        self._pool: Executor | None = None
        _stop_on_signals(self)  # before any process starts: Ctrl-C from here stops the build
        preload = settings.get("FENCES_PRELOAD") or []
        if early and checked.executor == "local" and isinstance(preload, list | tuple) and all(
                isinstance(name, str) for name in preload):
            # The one place the engine names an executor: the default one's fork server is
            # started before the plugins load (0.1 s, about 5% of a cold build on 2 cores).
            from execblog.executors.local.pool import start_fork_server

            start_fork_server(checked.workers, list(preload))
        self.pm = make_manager(self.plugins)
        self.kinds: dict[str, FenceKind] = {
            k.name: k for kinds in self.pm.hook.fences_kinds() for k in kinds
        }
        self.candidates: list[BackendCandidate] = sorted(
            (c for cands in self.pm.hook.fences_backend_candidates() for c in cands),
            key=lambda c: -c.preference,
        )
        names = request_names(self.candidates)  # backend= and FENCES_BACKEND accept these
        if checked.backend not in names:
            raise SettingsError("FENCES_BACKEND", checked.backend, f"one of {', '.join(names)}")
        self.backend_names = names
        preload = settings.get("FENCES_PRELOAD") or []
        if not isinstance(preload, list | tuple) or not set(preload) <= set(names[1:]):
            raise SettingsError("FENCES_PRELOAD", preload,
                                f"a list of backend names among {', '.join(names[1:])}")
        self.defaults = {"timeout": checked.timeout, "backend": checked.backend}
        self.params_limit = params_limit(settings.get("FENCES_PARAMS_LIMIT", DEFAULT_LIMIT))
        self._pool = self._choose_executor()  # a bad setting fails now
        expect = getattr(self._pool, "expect", None)
        if callable(expect):  # sessions that took longest last time start first
            expect(last)
        self._best: str | None = None
        self._probed = False  # best_backend asked a worker (and said what auto gives)
        self._bar: tqdm | None = None
        self._cache_warned = False
        self.reset()
        if early:
            self.pool().start()

    # -- wiring ------------------------------------------------------------------------------
    def extension(self) -> FenceExtension:
        return FenceExtension(
            kinds=lambda: list(self.kinds.values()),
            defaults=self.defaults,
            relative=lambda p: os.path.relpath(p, self.content_root).replace(os.sep, "/"),
            on_post=self.plan_post,
            backend_names=self.backend_names,
            strict=self.strict,
        )

    def reset(self) -> None:
        self.started = time.perf_counter()
        self.posts: dict[str, list[Fence]] = {}
        self.results: dict[tuple[str, int], FenceResult] = {}
        # the sessions running, by the post they belong to (in the order they were queued)
        self.running: dict[str, list[tuple[list[Fence], Future[list[FenceResult]]]]] = {}
        # sessions resumed from snapshots (executors with ``snapshots``: the preview)
        self.resuming: list[tuple[list[Fence], list[FenceResult | None], Future[Any]]] = []
        self._inputs: dict[tuple[str, int], list[list[str]]] = {}
        # parameter grids (fences.params): each fence's grid, its exec_code before the
        # default was bound, its key before its values, and its other states
        self.grids: dict[tuple[str, int], Grid] = {}
        self._unbound: dict[tuple[str, int], str] = {}
        self._bases: dict[tuple[str, int], str] = {}
        self.states: dict[tuple[str, int], list[StateRun]] = {}
        self._toolchains: dict[str, str | None] = {}
        old = getattr(self, "renderer", None)
        if old is not None:
            old.close()
        # made now, so that derived files start as sessions end (Renderer.prepare); it gets
        # Pelican's context when the pages are rendered
        self.renderer = Renderer(self.pm, self.kinds, self.output_path, {}, self.checked.site)

    # -- plan ----------------------------------------------------------------------------------
    def plan_post(self, path: str, fences: list[Fence]) -> None:
        """Called by the Markdown extension with one post's fences, in order."""
        self.posts[path] = fences
        _check_unique_ids(fences)
        sessions: dict[str, list[Fence]] = {}
        for fence in fences:
            kind = self.kinds.get(fence.kind)
            if kind is None:  # a language no installed kind runs: collect said so
                fence.session = f"{fence.kind}-{fence.index}"
                self._record(fence, _problem(fence))
                continue
            if kind.shares_session:
                # Each kind has its own default session (a failing bash fence must not
                # skip the next Python fence); session=NAME joins fences of any kind.
                joins = (kind.session_for and kind.session_for(fence.options)) or kind.name
                fence.session = fence.options.session or f"{joins}:default"
            else:
                fence.session = f"{kind.name}-{fence.index}"
            sessions.setdefault(fence.session, []).append(fence)
            if self.mode != "frozen" and fence.options.eval:
                self.toolchain(fence)  # once per kind and build: reports a missing one
        self._plan_grids(fences)
        for session in sessions.values():
            # eval=false: shown, not run; the session runs as if the fence were not there
            runs = []
            for fence in session:
                if fence.options.eval or fence.problem:
                    runs.append(fence)
                else:
                    self._record(fence, FenceResult(NOT_RUN, message="eval=false: not run"))
            self._key_session(runs)
            self._resolve_session(runs)
            self._plan_states(runs)

    def _plan_grids(self, fences: list[Fence]) -> None:
        """Check each ``params`` fence's grid (its default, the limit, controls shared with
        the post's other fences) and bind its default state into ``exec_code``."""
        grids: list[tuple[Fence, Grid]] = []
        for fence in fences:
            if fence.problem or not (getattr(fence.options, "params", None)
                                     or getattr(fence.options, "params_default", None)):
                continue
            try:
                grid = grid_of(fence.options)
            except ValueError as exc:
                fence.problem = str(exc)
                fence.problem_line = option_line(fence, "params-default")
                continue
            assert grid is not None
            problem = check_limit(grid, self.params_limit)
            if problem:
                fence.problem, fence.problem_line = problem, option_line(fence)
                continue
            grids.append((fence, grid))
        check_shared(grids)
        for fence, grid in grids:
            if fence.problem:
                continue
            where = (fence.path, fence.index)
            self.grids[where] = grid
            self._unbound[where] = fence.exec_code
            fence.exec_code = bind(fence, grid.chosen(grid.default)).exec_code

    def _plan_states(self, fences: list[Fence]) -> None:
        """Each state of a ``params`` fence but the default: from the cache (its own entry:
        the fence's key plus its values), else run as a session of its own that replays
        the fences above it; sessions run side by side on the executor."""
        stop = next((i for i, f in enumerate(fences) if f.problem), len(fences))
        for pos, fence in enumerate(fences[:stop]):
            where = (fence.path, fence.index)
            grid = self.grids.get(where)
            if grid is None:
                continue
            runs = self.states[where] = []
            for state in grid.states()[1:]:
                chosen = grid.chosen(state)
                variant = bind(fence, chosen, self._unbound[where])
                variant.key = state_key(self._bases[where], chosen)
                variant.session = f"{fence.session}~{state_id(state)}"
                run = StateRun(state, chosen, variant)
                runs.append(run)
                hit = self._lookup(variant)
                if hit is not None or self.mode == "frozen":
                    run.result = hit or _frozen_miss(variant)
                    continue
                session = [replace(f, session=variant.session) for f in fences[:pos]]
                count = len(session) + 1
                self._submit_bar(count)
                run.future = self.pool().submit([*session, variant])
                run.future.add_done_callback(lambda done, n=count: self._tick(n))
                run.future.add_done_callback(
                    lambda done: self._prepare(done, lambda r: r[-1:]))

    def _key_session(self, fences: list[Fence]) -> None:
        previous = ""
        for fence in fences:
            kind = self.kinds[fence.kind]
            inputs = self._input_digests(fence)
            self._inputs[(fence.path, fence.index)] = inputs
            specs = kind_specs(kind)
            material = [__version__, kind.name, kind.version, fence.code,
                        result_options(fence.options, specs), previous, inputs]
            fence.key = hashlib.sha256(
                json.dumps(material, sort_keys=True, default=str).encode()
            ).hexdigest()
            grid = self.grids.get((fence.path, fence.index))
            if grid is not None:  # the default state: the key plus its values
                self._bases[(fence.path, fence.index)] = fence.key
                fence.key = state_key(fence.key, grid.chosen(grid.default))
            previous = fence.key

    def _input_digests(self, fence: Fence) -> list[list[str]]:
        digests = []
        base = os.path.dirname(fence.path)
        for rel in fence.options.inputs or ():
            try:
                data = Path(base, rel).read_bytes()
            except OSError as exc:
                if fence.problem is None:
                    fence.problem = f"inputs: cannot read {rel!r} ({exc.strerror})"
                    fence.problem_line = fence.line
                continue
            digests.append([rel, hashlib.sha256(data).hexdigest()])
        return digests

    def _resolve_session(self, fences: list[Fence]) -> None:
        stop = next((i for i, f in enumerate(fences) if f.problem), len(fences))
        if stop < len(fences):
            bad = fences[stop]
            self._record(bad, _problem(bad))
            for later in fences[stop + 1 :]:  # every bad fence says what is wrong with it
                self._record(later, _problem(later) if later.problem else _skipped(bad))
        runnable = fences[:stop]
        hits = [self._lookup(f) for f in runnable]
        if self.mode == "frozen":
            for fence, hit in zip(runnable, hits, strict=True):
                self._record(fence, hit or _frozen_miss(fence))
            return
        if all(hit is not None for hit in hits):
            for fence, hit in zip(runnable, hits, strict=True):
                self._record(fence, hit)
            self._prime(runnable, hits)
            return
        if self._resumable() is not None:
            self._submit_resumable(runnable, hits)
            return
        self._submit(runnable)

    def _lookup(self, fence: Fence) -> FenceResult | None:
        if self.mode == "rerun" or not fence.options.cache:
            return None
        hit = self.cache.get(fence.key)
        if hit is None:
            return None
        hit.status = CACHED  # nothing ran (an expected error is cached with its traceback)
        if self.mode == "run" and (self._better_backend_exists(fence, hit)
                                   or self._other_toolchain(fence, hit)):
            return None
        for output in hit.outputs:
            relocate(output, fence)
        return hit

    def _better_backend_exists(self, fence: Fence, hit: FenceResult) -> bool:
        """A result made under ``auto`` where ``auto`` offered less than it offers here (a
        GPU now): run it again. What ``auto`` offered is recorded (``offered``), not what the
        fence used, so a fence that computes on the CPU on purpose is not run every build."""
        if (not self.kinds[fence.kind].uses_backend or not hit.backend
                or (getattr(fence.options, "backend", None) or AUTO) != AUTO):
            return False  # a label of another kind (a compiler) is no backend
        rank = {c.name: c.preference for c in self.candidates}
        recorded = rank.get(hit.backend.get("offered") or hit.backend.get("name"), -1)
        if not any(c.preference > recorded and c.installed() for c in self.candidates):
            return False  # cheap: nothing better is even installed
        return rank.get(self.best_backend(), -1) > recorded

    def _note_offered(self, fence: Fence, result: FenceResult) -> None:
        """Record what ``auto`` offers here with a result made under it."""
        if (self.kinds[fence.kind].uses_backend and result.backend
                and (getattr(fence.options, "backend", None) or AUTO) == AUTO):
            result.backend.setdefault("offered", self.best_backend())

    def _other_toolchain(self, fence: Fence, hit: FenceResult) -> bool:
        """The result was made with another compiler than this machine's (a missing one
        keeps it)."""
        current = self.toolchain(fence)
        return current is not None and (hit.backend or {}).get("toolchain") != current

    def toolchain(self, fence: Fence) -> str | None:
        """The identity of what runs ``fence``'s kind here (None: nothing here can, or the
        kind needs nothing); a missing toolchain is reported once per build, at the first
        fence that needs it."""
        if fence.kind not in self._toolchains:
            kind = self.kinds[fence.kind]
            found = kind.toolchain() if kind.toolchain else None
            self._toolchains[fence.kind] = found.identity if found else None
            if found is not None and found.identity is None:
                emit(fence.log_path, fence.line, "warning",
                     f"{kind.name} fences cannot run on this machine: {found.missing} "
                     "(cached results are kept and shown)")
        return self._toolchains[fence.kind]

    def best_backend(self) -> str:
        """What ``auto`` gives on this machine; probes in a worker only when a candidate
        above the fallback (CuPy) is installed."""
        if self._best is None:
            eligible = [c for c in self.candidates if c.preference >= FALLBACK_PREFERENCE]
            installed = [c for c in eligible if c.installed()]
            if installed and installed[0] is eligible[-1]:
                self._best = installed[0].name
            else:
                described, reasons = self.pool().probe()
                self._probed = True
                self._best = described["name"] if described else "none"
                why = f" ({'; '.join(reasons)})" if reasons else ""
                print(f"fences: backend auto -> {self._best}{why}", flush=True)
        return self._best

    # -- execute -------------------------------------------------------------------------------
    def pool(self) -> Executor:
        """The executor sessions run on, chosen by the ``fences_executor`` hook."""
        if self._pool is None:
            self._pool = self._choose_executor()
        return self._pool

    def _choose_executor(self) -> Executor:
        """The hook's executor; in a long-lived preview, the one kept from the last build
        when its settings are unchanged (fences.lifetime)."""
        from execblog.engine import lifetime

        def choose() -> Executor:
            executor = self.pm.hook.fences_executor(settings=self.checked.site,
                                                    engine=self.checked)
            if executor is None:
                raise SettingsError("FENCES_EXECUTOR", self.checked.executor,
                                    '"local" or an address an installed executor plugin '
                                    'accepts')
            return executor

        return lifetime.executor(self.checked, choose)

    def _submit(self, fences: list[Fence]) -> None:
        self._submit_bar(len(fences))
        future = self.pool().submit(fences)
        future.add_done_callback(lambda done: self._tick(len(fences)))
        future.add_done_callback(lambda done: self._prepare(done, lambda r: r))
        self.running.setdefault(fences[0].path, []).append((fences, future))

    def _submit_resumable(self, fences: list[Fence], hits: list[FenceResult | None]) -> None:
        """Run a session from the snapshot after its last unchanged fence (see
        ``execblog.executors.local.snapshots``); the unchanged fences keep their cached results as
        they are."""
        self._submit_bar(len(fences))
        reusable = next(i for i, hit in enumerate(hits) if hit is None)
        inputs = [self._inputs.get((f.path, f.index), []) for f in fences]
        pool = self._resumable()
        assert pool is not None  # _resolve_session checked
        future = pool.resume(fences, reusable, inputs)
        future.add_done_callback(lambda done: self._tick(len(fences)))
        future.add_done_callback(lambda done: self._prepare(done, lambda r: r.results))
        self.resuming.append((fences, hits, future))

    def _resumable(self) -> ResumableExecutor | None:
        """The executor, when it resumes sessions from snapshots (a held one: the preview)."""
        pool = self.pool()
        if isinstance(pool, ResumableExecutor) and pool.snapshots is not None:
            return pool
        return None

    def _prime(self, fences: list[Fence], hits: list[FenceResult | None]) -> None:
        """In a preview (an executor with snapshots), park snapshots of a cached session
        that took a while, in the background: its first edit then resumes at the edit
        instead of re-running the slow fences before it. The build does not wait for it."""
        if not lifetime_holding():
            return  # a plain build: nothing outlives it, so nothing to prime
        pool = self._resumable()
        if pool is None:
            return
        if sum(hit.seconds for hit in hits if hit is not None) < PRIME_SECONDS:
            return
        pool.prime(fences, [self._inputs.get((f.path, f.index), []) for f in fences])

    def _prepare(self, done: Future[Any], results: Any) -> None:
        """A session ended (on a pool thread): start its results' derived files."""
        if done.cancelled() or done.exception() is not None:
            return  # told when the engine collects it
        renderer = self.renderer
        for result in results(done.result()):
            renderer.prepare(result)

    def _submit_bar(self, count: int) -> None:
        if self._bar is None:
            self._bar = tqdm(total=0, unit="fence", desc="fences", disable=None, leave=False)
        self._bar.total += count
        self._bar.refresh()

    def _collect_resumed(self) -> None:
        for fences, hits, future in self.resuming:
            resumed = future.result()
            if resumed.note is not None:
                fence, text = resumed.note
                emit(fence.log_path, fence.line, "note", text)
            reusable = next(i for i, hit in enumerate(hits) if hit is None)
            for i, fence in enumerate(fences):
                ran = resumed.results[i - resumed.start] if i >= resumed.start else None
                hit = hits[i] if i < reusable else None
                if hit is not None and (ran is None or ran.status in (RAN, EXPECTED_ERROR)):
                    self._record(fence, hit)  # unchanged: the cached result, never re-timed
                    continue
                assert ran is not None
                self._record(fence, ran)
                if ran.status in (RAN, EXPECTED_ERROR) and fence.options.cache:
                    self._store(fence, ran)
        self.resuming = []

    def _tick(self, count: int) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def _record(self, fence: Fence, result: FenceResult) -> None:
        self.results[(fence.path, fence.index)] = result

    def _futures(self, path: str) -> list[Future[Any]]:
        """What the post at ``path`` still waits for: its sessions and parameter states."""
        found = [future for _, future in self.running.get(path, ())]
        for fence in self.posts.get(path, ()):
            found += [run.future for run in self.states.get((fence.path, fence.index), ())
                      if run.future is not None]
        return found

    def _collect_post(self, path: str) -> None:
        """Wait for the sessions of the post at ``path`` (and its parameter states), record
        their results and cache them."""
        for fences, future in self.running.pop(path, ()):
            results = future.result()
            for fence, result in zip(fences, results, strict=True):
                self._record(fence, result)
                if result.status in (RAN, EXPECTED_ERROR) and fence.options.cache:
                    self._store(fence, result)
        for fence in self.posts.get(path, ()):
            for run in self.states.get((fence.path, fence.index), ()):
                if run.future is None:
                    continue
                run.result = run.future.result()[-1]  # the replayed fences' are dropped
                run.future = None
                if (run.result.status in (RAN, EXPECTED_ERROR)
                        and run.fence.options.cache):
                    self._store(run.fence, run.result)

    def _store(self, fence: Fence, result: FenceResult) -> None:
        """Cache a result; a cache that cannot be written is a warning, not a lost page."""
        self._note_offered(fence, result)
        try:
            self.cache.put(fence.key, fence.kind, result)
        except CacheWriteError as exc:
            if not self._cache_warned:  # once: the same cause fails every write
                self._cache_warned = True
                emit(str(self.cache.root), None, "warning",
                     f"cannot write the fence cache ({exc}); pages still show the fresh "
                     "results, but the next build runs them again")

    # -- finish ----------------------------------------------------------------------------------
    def finish(self, generators: Iterable[Any]) -> None:
        """Wait for every session, render into the content objects, report, enforce strict.

        Each post is rendered (its fences' HTML, its notebook...) as soon as its own sessions
        are done, while other posts' sessions still run, rather than all at the end: the
        posts whose sessions are done, in the order they were read, then the next to be done.
        """
        try:
            generators = list(generators)
            self._collect_resumed()
            self.renderer.context = _first_context(generators)
            shown: dict[str, list[Any]] = {}  # source path -> its content objects
            for obj in content_objects(generators):
                shown.setdefault(getattr(obj, "source_path", None) or "", []).append(obj)
            waiting = list(self.posts)
            while waiting:
                ready = [path for path in waiting
                         if all(future.done() for future in self._futures(path))]
                if not ready:
                    wait([future for path in waiting for future in self._futures(path)],
                         return_when=FIRST_COMPLETED)
                    continue
                for path in ready:
                    waiting.remove(path)
                    self._collect_post(path)
                    fences = self.posts[path]
                    for obj in shown.get(path, ()) if fences else ():
                        self._render_post(obj, fences)
            for path in list(self.running):  # (none: every session is of a post read)
                self._collect_post(path)
            forget_memoized_content()
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            self._note_backend()
            entries, params = state_entries(
                [(f, self.results[(f.path, f.index)])
                 for fences in self.posts.values() for f in fences],
                self.grids, self.states)
            for (fence, result), chosen in zip(entries, params, strict=True):
                _log_located(fence, result if chosen is None else _in_state(result, chosen),
                             self.strict)
            report = build_report(entries, time.perf_counter() - self.started, params)
            report["build_id"] = self.build_id
            write_report(report, self.report_path)
            if entries:
                print(summary_line(report, entries), flush=True)  # like Pelican's "Done:" line
            self.pm.hook.fences_build_finished(report=report, settings=self.checked.site)
            failures = [e for e in entries if is_failure(*e)]
            if self.strict and failures:
                raise FencesFailed(
                    f"{len(failures)} fence(s) failed (strict mode): "
                    + ", ".join(f.location(r.line) for f, r in failures)
                )
        finally:
            self.reset()

    def _note_backend(self) -> None:
        ran = [r for r in self.results.values() if r.status != CACHED and r.backend]
        if ran:
            names = sorted({r.backend["label"] for r in ran})
            missing = [c.name for c in self.candidates if not c.installed()]
            why = f" ({', '.join(missing)} not installed)" if missing else ""
            print(f"fences: ran on {', '.join(names)}{why}", flush=True)

    def _render_post(self, obj: Any, fences: list[Fence]) -> None:
        """Put the HTML of the post's fences into its content object."""
        renderer = self.renderer
        html = obj._content
        results = [self.results[(f.path, f.index)] for f in fences]
        controlled: set[str] = set()  # parameters this post has a control for
        for fence, result in zip(fences, results, strict=True):
            shown = renderer.fence_html(fence, result)
            where = (fence.path, fence.index)
            if where in self.states and shown:
                shown = render_grid(renderer, fence, shown, self.grids[where],
                                    self.states[where], controlled)
            html = html.replace(placeholder(fence), shown)
        obj._content = html
        # the notebook (and any other plugin) gets each fence with its default values
        self.pm.hook.fences_post_rendered(post=obj, fences=self._with_defaults(fences),
                                          results=results, settings=self.checked.site)

    def _with_defaults(self, fences: list[Fence]) -> list[Fence]:
        """``fences``, those with ``params`` as copies whose code starts by binding the
        default state's values (what a notebook needs to run as the page shows)."""
        shown = []
        for fence in fences:
            grid = self.grids.get((fence.path, fence.index))
            if grid is not None:
                line = bind(fence, grid.chosen(grid.default), "").exec_code
                fence = replace(fence, code=f"{line}\n{fence.code}")
            shown.append(fence)
        return shown

    def close(self) -> None:
        """Shut the executor down, unless a long-lived preview keeps it (fences.lifetime)."""
        from execblog.engine import lifetime

        if self._pool is not None:
            if not lifetime.held(self._pool):
                self._pool.shutdown()
            self._pool = None

    def interrupt(self, signum: int) -> None:
        """The build was told to stop (Ctrl-C, SIGTERM): kill every session, cache nothing
        more, and leave with status 128 + signal number (130 for Ctrl-C)."""
        if self._pool is not None:
            self._pool.cancel()
        name = signal.Signals(signum).name
        print(f"fences: build interrupted ({name}): sessions stopped, nothing more cached",
              file=sys.stderr, flush=True)
        raise BuildInterrupted(128 + signum)


def _edited_since(root: str, report: str | os.PathLike[str]) -> bool:
    """Whether a Markdown file under ``root`` changed since the last build wrote its report.

    Only decides when the fork server starts (now, or at the first cache miss), never what
    runs: a wrong guess costs a little time, not a wrong page.
    """
    from pelican.readers import MarkdownReader

    try:
        stamp = os.stat(report).st_mtime
    except OSError:
        return True
    suffixes = tuple(f".{ext}" for ext in MarkdownReader.file_extensions)
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(suffixes):
                with contextlib.suppress(OSError):
                    if os.stat(os.path.join(folder, name)).st_mtime > stamp:
                        return True
    return False


def _last_seconds(report: str | os.PathLike[str]) -> dict[str, float]:
    """Seconds each fence (by cache key) took when it last ran, from the last build's report
    (a cached result keeps the seconds of its run); none without a readable report."""
    try:
        fences = json.loads(Path(report).read_text(encoding="utf-8"))["fences"]
        return {f["key"]: float(f["seconds"]) for f in fences
                if isinstance(f, dict) and f.get("key") and f.get("seconds")}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _first_context(generators: Iterable[Any]) -> dict[str, Any]:
    for generator in generators:
        if hasattr(generator, "context"):
            return generator.context
    return {}


def _figure_without_alt(fence: Fence, result: FenceResult) -> bool:
    if fence.options.alt or fence.options.caption or not fence.options.output:
        return False
    return any(o.meta.get("figure") for o in result.outputs)


def _problem(fence: Fence) -> FenceResult:
    message = fence.problem or "invalid fence"
    return FenceResult(FAILED, [Output(ERROR, message, {})], message=message,
                       line=fence.problem_line)


def _skipped(bad: Fence) -> FenceResult:
    why = f"not run: {bad.public_location(bad.problem_line)} failed earlier in this session"
    return FenceResult(SKIPPED, [Output(ERROR, why, {})], message=why)


def _in_state(result: FenceResult, chosen: dict[str, Any]) -> FenceResult:
    """A state's result as the log tells it: its message names the state."""
    if not result.message:
        return result
    return replace(result, message=f"[{describe(chosen)}] {result.message}")


def _frozen_miss(fence: Fence) -> FenceResult:
    message = "not in the cache, and FENCES_MODE is frozen (nothing runs)"
    return FenceResult(FAILED, [Output(ERROR, message, {})], message=message)


class BuildInterrupted(SystemExit):
    """Ends an interrupted build with 128 + the signal's number. A SystemExit, because
    Pelican turns KeyboardInterrupt into a warning and exit status 0."""


def _stop_on_signals(engine: Engine) -> None:
    """SIGINT and SIGTERM stop the build through :meth:`Engine.interrupt` (main thread only:
    Python delivers signals there)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: engine.interrupt(signum))


def is_failure(fence: Fence, result: FenceResult) -> bool:
    """A result that fails a strict build: an error, a crash or a timeout, except where the
    fence said an error is expected (``error=true`` also covers crashes and timeouts)."""
    if result.status not in FAILURES:
        return False
    return not (fence.options.error and result.status in (TIMEOUT, CRASHED))


def _log_located(fence: Fence, result: FenceResult, strict: bool) -> None:
    """One compiler-style line per problem: ``content/posts/x.md:12: error: message``."""
    for level, text in result.logs:
        severity = "error" if level >= logging.ERROR else "warning" if (
            level >= logging.WARNING) else "note"
        emit(fence.log_path, fence.line, severity, text)
    if result.status in FAILURES:
        severity = "error" if is_failure(fence, result) else "warning"
        emit(fence.log_path, result.line or fence.line, severity, result.message)
    elif strict and _figure_without_alt(fence, result):
        emit(fence.log_path, fence.line, "warning", 'figure has no alt text (add alt="...")')


def _check_unique_ids(fences: list[Fence]) -> None:
    seen: dict[str, Fence] = {}
    for fence in fences:
        anchor = fence.options.id
        if not anchor:
            continue
        first = seen.setdefault(anchor, fence)
        if first is not fence and fence.problem is None:
            fence.problem = f"duplicate id {anchor!r} (already used at line {first.line})"
            fence.problem_line = fence.line


_TRACEBACK_LINE = re.compile(r'File "(?P<file>[^"]*)", line (?P<line>\d+)')


def relocate(output: Output, fence: Fence) -> None:
    """Make a cached error name the post where it is now: renamed, or its lines moved."""
    origin = output.meta.get("origin")
    if output.mime != ERROR or not origin or list(origin) == [fence.source, fence.line]:
        return
    old_source, old_line = origin[0], int(origin[1])
    shift = fence.line - old_line

    def moved(match: re.Match[str]) -> str:
        if match["file"] != old_source:
            return match[0]
        return f'File "{fence.source}", line {int(match["line"]) + shift}'

    output.data = _TRACEBACK_LINE.sub(moved, str(output.data))
    output.meta["origin"] = [fence.source, fence.line]
