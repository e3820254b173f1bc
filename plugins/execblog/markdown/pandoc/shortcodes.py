"""Quarto's shortcodes, and the checks that need the post's own line numbers.

``{{< include file.qmd >}}`` alone on a line is replaced by the file's text, as if pasted:
a path is relative to the post (in an included file too, as in Quarto), includes nest, and
include lines in code blocks are replaced too. It happens before the fence engine collects
fences, so the included fences run in the post's session in their place. A missing or
circular include is a located error; any other shortcode (``{{< video ... >}}``,
``{{< var ... >}}``...) is a located warning that names it, and stays visible as code
(other shortcodes in code are left as written). ``{{{< x >}}}`` is Quarto's escape: the
literal ``{{< x >}}``, in code too.

This pass runs before the fence collector, while lines still match the file, so it also
checks the fenced divs (``divs``): a div never closed, or a closer without a div, is a
located warning. The lines an include adds would shift the line numbers the collector gives
the fences after it: it is told the right ones (:func:`_relocate`); a fence of an included
file is located at the include's line.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from collections.abc import Callable
from typing import Any

from markdown import Markdown
from markdown.preprocessors import Preprocessor

from execblog.kernel.contents import reading_path
from execblog.kernel.diagnostics import emit, shown_path
from execblog.kernel.site_errors import fail_at_end
from execblog.markdown.xrefs.core import prose_lines

from .attributes import is_closer, parse_opener
from .layout import LayoutError, has_layout, rows_for

log = logging.getLogger(__name__)
SHORTCODE = re.compile(r"(?<!\{)\{\{<\s*(?P<name>[\w-]+)(?P<args>(?:(?!>\}\}).)*?)\s*>\}\}(?!\})")
ESCAPED = re.compile(r"\{\{\{<(?P<inner>(?:(?!>\}\}\}).)*)>\}\}\}")
MAX_DEPTH = 20


class Problems:
    """Located messages of one conversion (errors also fail a strict build at its end)."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict

    def __call__(self, path: str, line: int | None, severity: str, message: str) -> None:
        if severity == "warning" and self.strict:
            severity = "error"
        text = emit(shown_path(path), line, severity, message)
        if severity == "error":
            fail_at_end(text, log)


def check_divs(lines: list[str], path: str, problem: Callable[..., None]) -> None:
    """Located warnings for unbalanced fenced divs and unreadable layouts in one file."""
    opened: list[int] = []
    for number, text in prose_lines("\n".join(lines)):
        attributes = parse_opener(text)
        if attributes is not None:
            opened.append(number)
            if has_layout(attributes):
                try:
                    rows_for(attributes, 1)
                except LayoutError as exc:
                    problem(path, number, "warning", f"{exc}; the div's content is shown "
                            "one block under the other")
        elif is_closer(text):
            if opened:
                opened.pop()
            else:
                problem(path, number, "warning", "':::' closes no fenced div (no '::: {...}' "
                        "opener before it is open); it is left out")
    for number in opened:
        problem(path, number, "warning", "fenced div opened here is never closed: it runs "
                "to the end of the file (close it with a line ':::')")


class SourcePass(Preprocessor):
    """Includes, other shortcodes, and the div check (priority 29: before fences at 28)."""

    def __init__(self, md: Markdown, strict: bool = False) -> None:
        super().__init__(md)
        self.strict = strict

    def run(self, lines: list[str]) -> list[str]:
        path = reading_path()
        if path is None or getattr(self.md, "pandoc_source_done", False):
            return [_unescape(line) for line in lines]
        self.md.pandoc_source_done = True  # the post's body only, not its summary
        problem = Problems(self.strict)
        origins: list[int] = []  # for each line of the text: the post's line it stands at
        out = self._expand(lines, os.path.abspath(path), problem, origins, [], None)
        if origins != list(range(1, len(origins) + 1)):
            _relocate(self.md, origins)  # an include added or removed lines
            self.md.pandoc_origins = origins  # the collector's warnings say the post's line
        return out

    def _expand(self, lines: list[str], path: str, problem: Problems, origins: list[int],
                stack: list[str], at: int | None) -> list[str]:
        """``lines`` of ``path`` with includes expanded (``at``: the post line of the include
        that brought them, for an included file); ``origins`` gets each line's post line."""
        check_divs(lines, path, problem)
        prose = dict(prose_lines("\n".join(lines)))
        out: list[str] = []
        for number, line in enumerate(lines, 1):
            post_line = at if at is not None else number
            text = prose.get(number)
            include = SHORTCODE.fullmatch(line.strip()) if "{{<" in line else None
            if (include is None or include["name"] != "include") and (
                    text is None or "{{<" not in text):
                out.append(_unescape(line))
                origins.append(post_line)
                continue
            if include and include["name"] == "include":
                found = self._include(include["args"].strip(), path, number, problem, stack)
                if found is not None:
                    target, included = found
                    out += self._expand(included, target, problem, origins, [*stack, path],
                                        post_line)
                    continue
                out.append("")
                origins.append(post_line)
                continue
            out.append(_unescape(self._others(line, text, path, number, problem)))
            origins.append(post_line)
        return out

    def _include(self, argument: str, path: str, line: int, problem: Problems,
                 stack: list[str]) -> tuple[str, list[str]] | None:
        name = argument.strip("\"'")
        if not name:
            problem(path, line, "error", "{{< include >}} names no file: write "
                    "{{< include file.qmd >}}")
            return None
        if name.startswith("/"):
            problem(path, line, "error", f"{{{{< include {name} >}}}}: a path from Quarto's "
                    "project folder, which a post does not have: write the path relative to "
                    "the post; left out")
            return None
        # relative to the post, in an included file too: as if pasted into it (Quarto's rule)
        base = os.path.dirname(stack[0] if stack else path)
        target = os.path.normpath(os.path.join(base, name))
        if target in stack or target == path or len(stack) >= MAX_DEPTH:
            problem(path, line, "error", f"{{{{< include {name} >}}}} includes itself "
                    "(through the files that include it): left out")
            return None
        try:
            with open(target, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            problem(path, line, "error", f"{{{{< include {name} >}}}}: cannot read {name} "
                    f"({reason}; the path is relative to the post): left out")
            return None
        return target, text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def _others(self, line: str, text: str, path: str, number: int,
                problem: Problems) -> str:
        """Every shortcode of a line but include: warned about, shown as code."""
        pieces, pos = [], 0
        for match in SHORTCODE.finditer(text):
            name = match["name"]
            why = ("an include must be alone on its line" if name == "include"
                   else "Execblog does not run this Quarto shortcode")
            problem(path, number, "warning", f"shortcode {{{{< {name} >}}}} is not supported "
                    f"({why}); it is shown as written")
            pieces += [line[pos:match.start()], "`` ", line[match.start():match.end()], " ``"]
            pos = match.end()
        return "".join(pieces) + line[pos:]


def _unescape(line: str) -> str:
    """Quarto's escaped shortcode ``{{{< x >}}}`` is the literal ``{{< x >}}``."""
    return ESCAPED.sub(lambda m: "{{<" + m["inner"] + ">}}", line) if "{{{<" in line else line


def _relocate(md: Markdown, origins: list[int]) -> None:
    """Have the fence collector of this conversion give each fence its line in the post
    (the include's line for a fence of an included file), not its line in the expanded
    text: its ``on_post`` is wrapped for this Markdown instance only."""
    collector = md.preprocessors["fences_collect"] if "fences_collect" in md.preprocessors \
        else None
    if collector is None or not hasattr(collector, "ext"):
        return
    ext = copy.copy(collector.ext)
    plan: Callable[[str, list[Any]], None] = collector.ext.on_post

    def on_post(path: str, fences: list[Any]) -> None:
        for fence in fences:
            index = min(max(fence.line - 1, 0), len(origins) - 1)
            _shift(fence, origins[index] - fence.line)
        plan(path, fences)

    ext.on_post = on_post
    collector.ext = ext


def _shift(fence: Any, delta: int) -> None:
    if not delta:
        return
    padding = (fence.code_line or fence.body_line) - 1  # exec_code starts with as many
    fence.exec_code = "\n" * max(padding + delta, 0) + fence.exec_code[padding:]
    fence.line += delta
    fence.body_line += delta
    if fence.code_line:
        fence.code_line += delta
    if fence.problem_line:
        fence.problem_line += delta
