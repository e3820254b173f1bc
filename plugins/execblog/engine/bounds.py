"""The one place that caps text a fence produces: outputs, log lines, one-line messages.

Applied in the worker (``Session.emit``/``display``, the plugin log handler) so neither the
cache nor the host ever holds a huge value. A cut output keeps ``meta["truncated"]`` (the
original length) and the page shows "Output truncated: ... had N characters". Text that is
rendered escaped (streams, errors, ``text/plain``) is cut in place; markup (HTML, SVG,
Markdown, anything else) cut anywhere could leave broken tags, so an oversized one becomes
``text/plain``: the start of its source, escaped, with the notice.
"""

from __future__ import annotations

from .model import ERROR, STREAM, Output

MAX_OUTPUT_CHARS = 50_000  # the same limit as stdout/stderr (capture.MAX_STREAM_CHARS)
MAX_SVG_CHARS = 1_000_000  # inline SVG: a 60-cell diagram is already ~52,000 characters
# A log line or one-line error summary. With its note it stays within the 1,000 characters
# that diagnostics.one_line keeps of a located log line, so the note is still seen.
MAX_LINE_CHARS = 900

ESCAPED = frozenset({STREAM, ERROR, "text/plain"})  # rendered as escaped text


def limit_for(mime: str) -> int:
    """The most characters an output of ``mime`` may hold."""
    return MAX_SVG_CHARS if mime == "image/svg+xml" else MAX_OUTPUT_CHARS


def bound_output(output: Output) -> Output:
    """``output`` itself when within its limit, else a cut copy marked as truncated.

    Binary payloads (PNG, matplotlib's SVG bytes) are written to files, never inlined, and
    are left alone.
    """
    data = output.data
    if not isinstance(data, str) or len(data) <= limit_for(output.mime):
        return output
    note = {"truncated": len(data), "truncated_unit": "characters"}
    if output.mime in ESCAPED:
        return Output(output.mime, data[:MAX_OUTPUT_CHARS], {**output.meta, **note})
    return Output("text/plain", data[:MAX_OUTPUT_CHARS], {**note, "truncated_from": output.mime})


def bound_line(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """One log line or message, cut to ``limit`` characters with a note of its length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [truncated: {len(text):,} characters]"


def cut_note(output: Output) -> str:
    """What the log says of an output that was cut: ``stdout was cut at 50,000 characters
    (it had 72,000 bytes)``."""
    size = output.meta.get("truncated")
    unit = output.meta.get("truncated_unit", "bytes")
    mime = output.meta.get("truncated_from") or output.mime
    what = output.meta.get("name", "stdout") if mime == STREAM else mime
    return f"{what} was cut at {MAX_OUTPUT_CHARS:,} characters (it had {int(size or 0):,} {unit})"
