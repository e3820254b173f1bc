"""Located messages that read like a compiler's: ``path:LINE: error: message``, one line each.

They go straight to stderr, not through Pelican's log handler, which wraps long records to
the terminal width (or 80 columns with no terminal) and appends its own source location:
that breaks grep, editors' jump-to-error and CI annotations. Under GitHub Actions each one
is also written as a workflow command (``::error file=...,line=...::message``) so it shows
on the pull request.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

SEVERITIES = ("error", "warning", "note")
MAX_MESSAGE_CHARS = 1000
_SPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` with every run of whitespace (newlines included) as one space, capped."""
    flat = _SPACE.sub(" ", str(text)).strip()
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat


def shown_path(path: str) -> str:
    """``path`` as a log names it: relative to the working directory when below it (what
    editors and CI open), else as given."""
    rel = os.path.relpath(path)
    return path if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


# Posts read through a conversion (a notebook read as Markdown): the lines of the Markdown
# the engine sees are not the file's, so their reader names them: the file's own line (an
# int), or a part of it and a line in it (("cell 4", 2); ("cell 4", 0): the cell itself).
LineName = int | tuple[str, int]
_LINE_NAMES: dict[str, Callable[[int], LineName]] = {}


def name_lines(path: str, namer: Callable[[int], LineName] | None) -> None:
    """Have messages about the post at ``path`` (absolute, or relative to the working
    directory) name its line ``n`` as ``namer(n)``; None: as it is."""
    key = os.path.abspath(path)
    if namer is None:
        _LINE_NAMES.pop(key, None)
    else:
        _LINE_NAMES[key] = namer


def line_name(path: str, line: int | None) -> LineName | None:
    """What ``line`` of the post at ``path`` is called (see name_lines)."""
    namer = _LINE_NAMES.get(os.path.abspath(path)) if line else None
    return namer(line) if namer else line


def own_line(path: str, line: int | None) -> int | None:
    """``line`` as its author counts it: in the file, or in its cell (None: the cell)."""
    named = line_name(path, line)
    return (named[1] or None) if isinstance(named, tuple) else named


def line_label(named: LineName) -> str:
    """``line 12``, ``cell 4, line 2`` or ``cell 4``."""
    if isinstance(named, tuple):
        return f"{named[0]}, line {named[1]}" if named[1] else named[0]
    return f"line {named}"


def place(path: str, line: int | None, post: str | None = None) -> str:
    """``path:12``, or ``path: cell 4, line 2`` in a converted post (``post``: its file,
    when ``path`` is another name for it)."""
    named = line_name(post or path, line)
    if isinstance(named, tuple):
        return f"{path}: {line_label(named)}"
    return f"{path}:{named}" if named else path


def located(path: str, line: int | None, severity: str, message: str) -> str:
    """``path:LINE: severity: message`` (``path: severity: message`` without a line)."""
    return f"{place(path, line)}: {severity}: {one_line(message)}"


def emit(path: str, line: int | None, severity: str, message: str) -> str:
    """Write one located message to stderr (and as a GitHub annotation); return it."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
    text = located(path, line, severity, message)
    lines = [text]
    if os.environ.get("GITHUB_ACTIONS") == "true":
        named = line_name(path, line)
        lines.append(_annotation(path, named if isinstance(named, int) else None, severity,
                                 message))
    sys.stderr.write("".join(f"{item}\n" for item in lines))
    sys.stderr.flush()
    return text


def _annotation(path: str, line: int | None, severity: str, message: str) -> str:
    """A GitHub Actions workflow command; ``%``, CR and LF are escaped as it requires."""
    kind = "notice" if severity == "note" else severity
    props = f"file={_escape(path, True)}" + (f",line={line}" if line else "")
    return f"::{kind} {props}::{_escape(one_line(message), False)}"


def _escape(text: str, prop: bool) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text
