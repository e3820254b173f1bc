"""The ``bash exec`` fence kind (``sh exec`` is the same kind: it runs bash too).

What an author sees:

* Each fence runs in a fresh ``bash`` process, so variables, functions and ``cd`` do not
  carry over from one fence to the next; files do. Fences of a post still run in order in
  the bash session, and a failing one skips the later bash fences of that session (Python
  fences are another session and still run).
* The working directory is the post's folder (``cat data.txt`` reads the file next to the
  post); stdin is empty; the build's environment is passed through unchanged.
* The script runs under ``set -euo pipefail``: a failing command, an unset variable or a
  failing stage of a pipeline stops it, and the fence fails at that command's post line.
  Mark a fence ``error=true`` to show an expected failure.
* ``$0`` is the post's path in the content folder, and line numbers are the post's, so
  bash's own messages read ``posts/x.md: line 14: foo: command not found``.
* stdout and stderr are shown like a Python fence's prints.

How the failing line is found: ``set -e`` stops on a plain failing command (``false``,
``grep`` without a match) without saying where, so the kind installs an ERR trap on the
first line of the script, which is always blank padding (the body is padded so its line
numbers are the post's, and no line moves). The trap appends ``status line`` to a file in
the session's private folder, never to the visible output, and only when ``errexit`` is on
(a failure under ``set +e`` stops nothing and is not recorded). The script also runs with
``set -E`` (errtrace) so functions and subshells inherit the trap and a failure inside a
function points at the command in it, not at the call; that only changes how an author's
own ERR trap would be inherited. Expansion and syntax errors (an unset variable under
``set -u``, ``${x:?}``, division by zero, ``fi fi``) run no ERR trap: for those the line
comes from bash's own ``posts/x.md: line N: ...`` message, when it is the last thing the
fence wrote on stderr (read back from the session's stderr capture file). A script that
ends with a failing status no trap saw (``[ -f x ] && y`` as its last line, an explicit
``exit 3``, an author's own ERR trap) fails at the fence's opening line.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from typing import Any

from execblog.engine import hookimpl
from execblog.engine.model import Fence, FenceError, FenceKind, Toolchain

from .program import exit_message

FLAGS = ("-Eeuo", "pipefail")  # errtrace, errexit, nounset, pipefail
# One line; its own trace (set -x) and errors go nowhere, and $? is read first.
_TRAP_BODY = ("{{ fences_status=$? fences_line=$LINENO; [[ $- != *e* ]] || "
              "echo \"$fences_status $fences_line\" >>{path}; }} 2>/dev/null")
_STDERR_TAIL = 64 * 1024  # how much of this fence's stderr is searched for bash's message
_VERSION = re.compile(r"version (\d+)\.(\d+)(?:\.(\d+))?")


# -- toolchain (host and worker) --------------------------------------------------------------
@functools.cache
def _version_line(path: str, mtime_ns: int) -> str:
    """First line of ``bash --version`` for this binary (keyed by its mtime too)."""
    try:
        proc = subprocess.run([path, "--version"], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return (proc.stdout.splitlines() or [""])[0].strip()


def _find_bash() -> tuple[str, str, str] | None:
    """(resolved path, identity, version line) of the bash on PATH, or None.

    The identity is ``/usr/bin/bash GNU bash, version 5.2.15(1)-release (...)``: the host
    names the toolchain with it and the worker records it with each result, so a cached
    result made with another bash is re-run.
    """
    found = shutil.which("bash")
    if not found:
        return None
    path = os.path.realpath(found)
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    line = _version_line(path, mtime)
    return path, f"{path} {line}".strip(), line


def bash_toolchain() -> Toolchain:
    found = _find_bash()
    return Toolchain(found[1]) if found else Toolchain(None, "bash not found on PATH")


def _ran_with(identity: str, version_line: str) -> dict[str, Any]:
    """What ``session.label`` records: ``bash 5.2``, versions ``{"bash": "5.2.15"}``."""
    match = _VERSION.search(version_line)
    parts = [p for p in match.groups() if p is not None] if match else []
    label = f"bash {'.'.join(parts[:2])}" if parts else "bash"
    return {"name": "bash", "label": label,
            "versions": {"bash": ".".join(parts)} if parts else {},
            "gpu": False, "device": "", "toolchain": identity}


# -- running one fence (worker) ----------------------------------------------------------------
def run_bash(fence: Fence, session: Any) -> None:
    found = _find_bash()
    if found is None:
        raise FenceError("bash not found on PATH", fence.line)
    path, identity, version_line = found
    session.label(_ran_with(identity, version_line))
    fd, errors = tempfile.mkstemp(prefix="bash-err-", dir=session.workdir)
    os.close(fd)
    try:
        code = fence.exec_code
        if code.startswith("\n"):  # line 1 is padding (the opener is at least line 1)
            body = _TRAP_BODY.format(path=shlex.quote(errors))
            code = f"trap {shlex.quote(body)} ERR{code}"
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        start = _stderr_size()
        try:
            proc = subprocess.run([path, *FLAGS, "-c", code, fence.source],
                                  stdin=subprocess.DEVNULL, check=False)
        except OSError as exc:
            raise FenceError(f"cannot start bash: {exc.strerror or exc}", fence.line) from None
        if proc.returncode != 0:
            said = _bash_messages(fence.source, start)
            raise _failure(fence, proc.returncode, _records(errors), said)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(errors)


def _failure(fence: Fence, status: int, records: list[tuple[int, int]],
             said: list[tuple[int, str]]) -> FenceError:
    """The located error for a script that ended with ``status``; ``said`` is what bash
    itself wrote on stderr, located (see :func:`_bash_messages`)."""
    if status < 0:  # bash itself was killed
        return FenceError(exit_message("the script", status), fence.line)
    # The innermost failure that stopped the script: the first record with the script's
    # status (a subshell's or function's failure is recorded before its caller's).
    line = next((ln for st, ln in records if st == status), None)
    if line is not None:
        why = [text for ln, text in said if ln == line]
        if why and status <= 128:  # bash said why (command not found, cd: ...)
            return FenceError(f"bash: {why[-1]}", line)
        return FenceError(f"bash: command at line {line} failed with exit status "
                          f"{status}{_why(status)}", line)
    # No trap ran: an expansion or syntax error stops bash with a message as its last words
    if said and said[-1][0] > 0:
        line = said[-1][0]
        lines = fence.exec_code.splitlines()
        text = lines[line - 1] if line <= len(lines) else ""
        for ln, message in said:
            if ln == line and _is_fatal(message, text):
                return FenceError(f"bash: {message}", line)
    return FenceError(exit_message("the script", status), fence.line)


_FATAL = re.compile(r"unbound variable|parameter null or not set|readonly variable|"
                    r"division by 0|syntax error|bad substitution|bad array subscript|"
                    r"invalid arithmetic|value too great|unexpected end of file")


def _is_fatal(message: str, text: str) -> bool:
    """Whether bash's ``message`` about post line ``text`` is one that ends a script
    (rather than a command's complaint the script went past, like ``cd ... || true``)."""
    if _FATAL.search(message):
        return True
    name = message.split(":", 1)[0]  # ${name:?custom message}
    return bool(name) and ("${" + name + ":?" in text or "${" + name + "?" in text)


def _why(status: int) -> str:
    if status == 127:
        return " (command not found)"
    if status > 128:
        try:
            return f" ({signal.Signals(status - 128).name})"
        except ValueError:
            return ""
    return ""


def _records(path: str) -> list[tuple[int, int]]:
    """(status, line) pairs the ERR trap wrote, in order."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            rows = fh.read().splitlines()
    except OSError:
        return []
    records = []
    for row in rows:
        parts = row.split()
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            records.append((int(parts[0]), int(parts[1])))
    return records


def _stderr_size() -> int | None:
    """Where this fence's stderr starts in the session's stderr (a capture file), or None
    where fd 2 is not a regular file."""
    try:
        info = os.fstat(2)
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _bash_messages(source: str, start: int | None) -> list[tuple[int, str]]:
    """bash's own ``posts/x.md: line N: message`` lines this fence wrote to stderr, as
    (N, message) in order; when the last line of stderr is not one, a (0, "") ends it."""
    if start is None:
        return []
    try:
        end = os.fstat(2).st_size
        offset = max(start, end - _STDERR_TAIL)
        data = os.pread(2, end - offset, offset) if end > offset else b""
    except OSError:
        return []
    text = data.decode("utf-8", "replace").rstrip()
    pattern = re.compile(rf"^{re.escape(source)}: (?:-c: )?line (\d+): (.+)$", re.MULTILINE)
    said = []
    last = 0
    for match in pattern.finditer(text):
        said.append((int(match.group(1)), match.group(2).strip()))
        last = match.end()
    if said and last != len(text):
        said.append((0, ""))
    return said


@hookimpl
def fences_kinds() -> list[FenceKind]:
    return [FenceKind(name="bash", language="bash", aliases=("sh",), marker="exec",
                      run=run_bash, uses_backend=False, shares_session=True, comment="#",
                      toolchain=bash_toolchain, notebook_cell="bash")]
