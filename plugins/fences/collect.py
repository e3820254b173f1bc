"""Collect: the Markdown extension that finds engine fences and leaves placeholders.

The extension runs inside Pelican's own Markdown reader, so the parser that renders a post
is the one that decides what a fence is. It runs right after whitespace normalisation, while
line numbers still match the file, and hands each post's fences to the engine.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor
from pelican.readers import MarkdownReader

from .model import Fence, FenceKind
from .options import (
    OptionError,
    kind_specs,
    parse_assignments,
    split_opener,
    take_option_lines,
    validate,
)

OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass
class _Reading:
    path: str
    done: bool = False


_current: contextvars.ContextVar[_Reading | None] = contextvars.ContextVar("fences_reading",
                                                                        default=None)


def placeholder(fence: Fence) -> str:
    """The HTML comment that stands for a fence until its outputs are rendered."""
    digest = hashlib.sha1(fence.path.encode()).hexdigest()[:12]
    return f"<!--fence:{digest}:{fence.index}-->"


class FenceReader(MarkdownReader):
    """Pelican's Markdown reader, telling the extension which file it is reading."""

    def read(self, source_path: str):
        token = _current.set(_Reading(source_path))
        try:
            return super().read(source_path)
        finally:
            _current.reset(token)


class FenceExtension(Extension):
    """Registers the preprocessor; ``on_post(path, fences)`` receives each post's fences."""

    def __init__(
        self,
        kinds: Callable[[], list[FenceKind]],
        defaults: dict[str, Any],
        relative: Callable[[str], str],
        on_post: Callable[[str, list[Fence]], None],
        backend_names: tuple[str, ...] | None = None,
    ):
        super().__init__()
        self.backend_names = backend_names  # what backend= accepts: auto and the candidates
        self.kinds = kinds
        self.defaults = defaults
        self.relative = relative
        self.on_post = on_post

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown's API name)
        # Priority 28: after normalize_whitespace (30), before meta (27) and fenced_code (25).
        md.preprocessors.register(FencePreprocessor(md, self), "fences_collect", 28)


class FencePreprocessor(Preprocessor):
    def __init__(self, md: Markdown, ext: FenceExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        reading = _current.get()
        if reading is None or reading.done:
            return lines  # not a post body (e.g. a summary in metadata): leave fences alone
        reading.done = True
        kinds = self.ext.kinds()
        out: list[str] = []
        fences: list[Fence] = []
        i = 0
        while i < len(lines):
            match = OPEN.match(lines[i])
            if not match or (match["fence"][0] == "`" and "`" in match["info"]):
                out.append(lines[i])
                i += 1
                continue
            close = _closing(lines, i + 1, match["fence"])
            kind = _claim(kinds, match["info"])
            end = len(lines) if close is None else close + 1
            if kind is None:
                out.extend(lines[i:end])
                i = end
                continue
            body = lines[i + 1 : close if close is not None else len(lines)]
            fence = self._fence(reading.path, i + 1, kind, match["info"], body, len(fences))
            if close is None:
                fence.problem = (
                    f"unterminated fence: no closing {match['fence']} before the end of the file"
                )
                fence.problem_line = i + 1
            fences.append(fence)
            out += ["", self.md.htmlStash.store(placeholder(fence)), ""]
            i = end
        if fences:
            self.ext.on_post(reading.path, fences)
        return out

    def _fence(
        self, path: str, line: int, kind: FenceKind, info: str, body: list[str], index: int
    ) -> Fence:
        fence = Fence(
            path=path, source=self.ext.relative(path), line=line, body_line=line + 1,
            kind=kind.name, code="\n".join(body), exec_code="", options={}, index=index,
        )
        specs = kind_specs(kind, self.ext.backend_names)
        defaults = {**self.ext.defaults, **dict(kind.defaults)}
        try:
            words = split_opener(info, line)
            skip = 2 if kind.marker else 1
            raw = parse_assignments(words[skip:], line)
            from_lines, count = take_option_lines(body, line + 1, kind.comment)
            raw.update(from_lines)
            fence.options = validate(raw, specs, defaults)
        except OptionError as exc:
            fence.options = validate({}, specs, defaults)
            fence.problem, fence.problem_line = str(exc), exc.line
            count = 0
        shown = body[count:]
        fence.code = "\n".join(shown)
        fence.exec_code = "\n" * (line + count) + fence.code
        fence.code_line = line + count + 1
        return fence


def _closing(lines: list[str], start: int, opener: str) -> int | None:
    closer = re.compile(rf"^ {{0,3}}{re.escape(opener[0])}{{{len(opener)},}}\s*$")
    for j in range(start, len(lines)):
        if closer.match(lines[j]):
            return j
    return None


def _claim(kinds: list[FenceKind], info: str) -> FenceKind | None:
    words = info.split()
    if not words:
        return None
    for kind in kinds:
        if words[0] != kind.language and words[0] not in kind.aliases:
            continue
        if kind.marker is None or (len(words) > 1 and words[1] == kind.marker):
            return kind
    return None
