"""What ``get_ipython()`` returns in a fence that uses IPython syntax: the build-time magics.

Not an IPython shell: only what :mod:`execblog.kinds.magics` lets through runs here.

* ``%matplotlib ...``, ``%config ...``, ``%autoreload``, ``%aimport``: nothing to do.
* ``%time stmt`` / ``%%time``: run, print CPU and wall time as IPython does, and return the
  value of a last expression (so it is displayed like the fence's own last expression).
* ``%timeit stmt`` / ``%%timeit``: IPython's options ``-n``, ``-r``, ``-p``, ``-q``, ``-o``
  and its output line; without ``-n``/``-r`` the loops per run come from
  :meth:`timeit.Timer.autorange` and the runs (up to 7) stop once
  :data:`TIMEIT_SECONDS` are spent.
* ``%%bash``: the body runs in ``bash`` with the post's line numbers (``$0`` is the post);
  a non-zero exit status fails the fence at the ``%%bash`` line, as IPython raises.
* ``!cmd`` runs in ``/bin/sh`` (output shown; ``_exit_code`` set, no error, as IPython);
  ``x = !cmd`` captures stdout and stderr as a list of lines (IPython's ``SList``).
  ``{name}`` and ``$name`` expand from the fence's names, as in IPython.
* ``%load_ext name`` imports the extension (a missing one is a located error). Its
  ``load_ipython_extension`` is not called: what it registers (magics, formatters, event
  hooks) belongs to an interactive shell that a build does not have.

Code a magic runs is compiled under the post's path at its post lines, so tracebacks and
errors point at the post.
"""

from __future__ import annotations

import ast
import cProfile
import importlib
import io
import pstats
import re
import resource
import shutil
import subprocess
import sys
import time
import timeit
from types import FrameType
from typing import Any

from execblog.engine.model import FenceError
from execblog.executors.local.capture import _flush

from . import magics
from .languages.program import exit_message

TIMEIT_SECONDS = 2.0  # what a %timeit spends at most, without -n/-r (IPython: ~2-8 s)
TIMEIT_RUNS = 7  # IPython's default -r
_TIMEIT_OPTION = re.compile(r"\s*-(?:(?P<key>[nrp])\s*(?P<value>\d+)|(?P<flag>[qotc]))(?=\s|$)")


class BuildShell:
    """The ``get_ipython()`` of a session's fences."""

    def __init__(self, session: Any):
        self.session = session

    def get_ipython(self) -> BuildShell:
        return self

    @property
    def user_ns(self) -> dict[str, Any]:
        return self.session.namespace

    # -- what IPython's transformer calls --------------------------------------------------
    def run_line_magic(self, magic_name: str, line: str, _stack_depth: int = 1) -> Any:
        frame = sys._getframe(_stack_depth)
        magics.check_magic(magic_name, cell=False, line=self._post_line(frame))
        if magic_name in magics.NOTHING_TO_DO:
            return None
        run = {"time": self._time, "timeit": self._timeit, "prun": self._prun,
               "load_ext": self._load_ext}
        return run[magic_name](frame, line, None)

    def run_cell_magic(self, magic_name: str, line: str, cell: str) -> Any:
        frame = sys._getframe(1)
        magics.check_magic(magic_name, cell=True, line=self._post_line(frame))
        run = {"time": self._time, "timeit": self._timeit, "prun": self._prun,
               "bash": self._bash}
        return run[magic_name](frame, line, cell)

    def system(self, cmd: str) -> None:
        """``!cmd``: run in the shell, its output shown; ``_exit_code`` as in IPython."""
        _flush()
        done = subprocess.run(self._expand(cmd, sys._getframe(1)), shell=True,  # noqa: S602
                              stdin=subprocess.DEVNULL, check=False)
        self.user_ns["_exit_code"] = done.returncode

    def getoutput(self, cmd: str, split: bool = True, depth: int = 0) -> Any:
        """``x = !cmd``: stdout and stderr, as IPython's ``SList`` of lines."""
        from IPython.utils.text import SList

        done = subprocess.run(self._expand(cmd, sys._getframe(depth + 1)), shell=True,  # noqa: S602
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace",
                              check=False)
        return SList(done.stdout.splitlines()) if split else done.stdout

    # -- the magics --------------------------------------------------------------------------
    def _time(self, frame: FrameType, line: str, cell: str | None) -> Any:
        if cell is not None and line.strip():
            raise FenceError("%%time takes no statement on its own line",
                             self._post_line(frame))
        code, last = self._compile(frame, line if cell is None else cell, cell is not None)
        global_ns, local_ns = _namespaces(frame)
        cpu, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        exec(code, global_ns, local_ns)  # noqa: S102 - the fence's own code
        value = eval(last, global_ns, local_ns) if last is not None else None  # noqa: S307
        wall = time.perf_counter() - wall
        now = resource.getrusage(resource.RUSAGE_SELF)
        user, system = now.ru_utime - cpu.ru_utime, now.ru_stime - cpu.ru_stime
        from IPython.core.magics.execution import _format_time

        print(f"CPU times: user {_format_time(user)}, sys: {_format_time(system)}, "
              f"total: {_format_time(user + system)}")
        print(f"Wall time: {_format_time(wall)}")
        return value

    def _prun(self, frame: FrameType, line: str, cell: str | None) -> None:
        """``%prun stmt`` / ``%%prun``: runs it under cProfile and prints the statistics
        by internal time, as IPython does without options."""
        if line.strip() if cell is not None else line.lstrip().startswith("-"):
            raise FenceError("%prun options are not supported here: write %prun statement "
                             "(or %%prun alone on the cell's first line)",
                             self._post_line(frame))
        code, last = self._compile(frame, line if cell is None else cell, cell is not None)
        global_ns, local_ns = _namespaces(frame)
        profile = cProfile.Profile()
        profile.enable()
        try:
            exec(code, global_ns, local_ns)  # noqa: S102 - the fence's own code
            if last is not None:
                eval(last, global_ns, local_ns)  # noqa: S307
        finally:
            profile.disable()
        report = io.StringIO()
        pstats.Stats(profile, stream=report).sort_stats("tottime").print_stats()
        print(report.getvalue().strip("\n"))

    def _timeit(self, frame: FrameType, line: str, cell: str | None) -> Any:
        from IPython.core.magics.execution import TimeitResult

        options, stmt = _timeit_options(line)
        setup, stmt = (stmt or "pass", cell) if cell is not None else ("pass", stmt)
        if not stmt.strip():
            raise FenceError("%timeit needs a statement to time", self._post_line(frame))
        global_ns, local_ns = _namespaces(frame)
        names = {**global_ns, **(local_ns or {})}
        timer = timeit.Timer(magics.transform_lines(stmt), magics.transform_lines(setup),
                             globals=names)
        started = time.perf_counter()
        number = options.get("n") or timer.autorange()[0]
        repeat = options.get("r")
        runs: list[float] = []
        while len(runs) < (repeat or TIMEIT_RUNS):
            runs.append(timer.timeit(number))
            if repeat is None and time.perf_counter() - started + runs[-1] > TIMEIT_SECONDS:
                break
        best, worst = min(runs) / number, max(runs) / number
        result = TimeitResult(number, len(runs), best, worst, runs, 0.0,
                              options.get("p") or 3)
        if "q" not in options:
            if worst > 4 * best and best > 0 and worst > 1e-6:
                print(f"The slowest run took {worst / best:.2f} times longer than the "
                      "fastest. This could mean that an intermediate result is being cached.")
            print(result)
        return result if "o" in options else None

    def _bash(self, frame: FrameType, line: str, cell: str | None) -> None:
        where = self._post_line(frame)
        if line.strip():
            raise FenceError(f"%%bash {line.strip()}: options of %%bash are not supported",
                             where)
        bash = shutil.which("bash")
        if bash is None:
            raise FenceError("%%bash: bash not found on PATH", where)
        _flush()
        script = "\n" * where + (cell or "")  # bash's messages name the post's lines
        done = subprocess.run([bash, "-c", script, self.session.fence.source],
                              stdin=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            raise FenceError(f"%%bash: {exit_message('the script', done.returncode)}", where)

    def _load_ext(self, frame: FrameType, line: str, cell: str | None) -> None:
        for name in line.split():
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name and name.startswith(exc.name):
                    raise FenceError(f"%load_ext {name}: no installed module is named "
                                     f"{exc.name!r}", self._post_line(frame)) from None
                raise

    # -- helpers -------------------------------------------------------------------------------
    def _post_line(self, frame: FrameType | None) -> int:
        """The post line being run: the innermost frame of the fence's own code."""
        source = self.session.fence.source
        while frame is not None and frame.f_code.co_filename != source:
            frame = frame.f_back
        return frame.f_lineno if frame is not None else self.session.fence.line

    def _compile(self, frame: FrameType, code: str, cell: bool) -> tuple[Any, Any]:
        """``code`` compiled at its post lines (after the magic's line for a cell), and its
        last expression apart (None when it does not end with one)."""
        source = self.session.fence.source
        first = self._post_line(frame) + (1 if cell else 0)
        padded = magics.transform_lines("\n" * (first - 1) + code)
        tree = compile(padded, source, "exec", ast.PyCF_ONLY_AST)  # (no ast.py frame)
        magics.check_calls(tree)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = compile(ast.Expression(tree.body.pop().value), source, "eval")
        return compile(tree, source, "exec"), last

    def _expand(self, cmd: str, frame: FrameType) -> str:
        """``{name}`` and ``$name`` in a shell command, from the caller's names, as IPython
        does (left as written when they do not expand)."""
        from IPython.utils.text import DollarFormatter

        global_ns, local_ns = _namespaces(frame)
        try:
            return DollarFormatter().vformat(cmd, args=[], kwargs={**global_ns,
                                                                   **(local_ns or {})})
        except Exception:  # noqa: BLE001 - IPython's rule: an expansion that fails is kept
            return cmd


def hide_shell_frames(exc: BaseException) -> None:
    """Drop this module's frames from ``exc``'s traceback: an error in code a magic ran
    reads as if the post's line had raised it (as in IPython)."""
    tb, kept = exc.__traceback__, []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename != __file__:
            kept.append(tb)
        tb = tb.tb_next
    for first, second in zip(kept, [*kept[1:], None], strict=True):
        first.tb_next = second
    exc.__traceback__ = kept[0] if kept else None


def _namespaces(frame: FrameType) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Globals and (inside a function) locals of the code that called the magic."""
    local_ns = frame.f_locals if frame.f_locals is not frame.f_globals else None
    return frame.f_globals, local_ns


def _timeit_options(line: str) -> tuple[dict[str, Any], str]:
    """IPython's ``%timeit`` options at the start of ``line`` (``-n 10 -r 3 -p 4 -q -o``),
    and the statement after them."""
    options: dict[str, Any] = {}
    while match := _TIMEIT_OPTION.match(line):
        if match["key"]:
            options[match["key"]] = max(1, int(match["value"]))
        else:
            options[match["flag"]] = True
        line = line[match.end():]
    return options, line.strip()

