"""Tracebacks of a converted post (a notebook) name its cells, as its log messages do.

A fence-engine plugin (registered with ``execblog.formats.notebooks``). A notebook post's cells run
as fences of the Markdown it was read as, so a traceback says ``File "posts/x.ipynb", line
57``: on the page that becomes ``File "posts/x.ipynb", cell 4, line 2`` (or the file's own
line, in a Markdown notebook), then the built-in renderer shows it as any error.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from execblog.display import html
from execblog.engine import hookimpl
from execblog.engine.model import ERROR, Output, RenderContext
from execblog.kernel.diagnostics import line_label, line_name

_FRAME = re.compile(r'File "(?P<file>[^"]*)", line (?P<line>\d+)')


def named_frames(text: str, source: str, path: str) -> str:
    """``text`` with each ``File "<source>", line N`` naming line N as the post does."""

    def name(match: re.Match[str]) -> str:
        if match["file"] != source:
            return match[0]
        named = line_name(path, int(match["line"]))
        return f'File "{source}", {line_label(named)}' if named else match[0]

    return _FRAME.sub(name, text)


@hookimpl(tryfirst=True)
def fences_render_output(output: Output, context: RenderContext,
                         settings: dict[str, Any]) -> str | None:
    if output.mime != ERROR or not isinstance(output.data, str):
        return None
    fence = context.fence
    text = named_frames(output.data, fence.source, fence.path)
    if text == output.data:
        return None
    return html.fences_render_output(replace(output, data=text), context, settings)
