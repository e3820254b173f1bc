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


def located(path: str, line: int | None, severity: str, message: str) -> str:
    """``path:LINE: severity: message`` (``path: severity: message`` without a line)."""
    where = f"{path}:{line}" if line else path
    return f"{where}: {severity}: {one_line(message)}"


def emit(path: str, line: int | None, severity: str, message: str) -> str:
    """Write one located message to stderr (and as a GitHub annotation); return it."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
    text = located(path, line, severity, message)
    lines = [text]
    if os.environ.get("GITHUB_ACTIONS") == "true":
        lines.append(_annotation(path, line, severity, message))
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
