"""Quarto documents (``.qmd``) as posts: YAML front matter, then Quarto Markdown.

The front matter is read with PyYAML and mapped to Pelican's metadata:

=================  =========================================================================
Quarto             Pelican
=================  =========================================================================
title, subtitle    Title, subtitle
date               Date: ISO, ``2024-03-01``, ``March 1, 2024``, ``today``/``now``,
                   ``last-modified`` (the file's time); ``date-modified``: Modified
author             Authors: a name, a list, or mappings with ``name`` (given/family/literal)
categories         Tags
description        Summary (Markdown)
draft: true        Status: draft
bibliography       Bibliography (``execblog.markdown.citations``), one file or a list
execute            the post's fence defaults: echo, eval, output, warning, error, include
jupyter            the kernel's language (python3: python), as the post's ``language``
=================  =========================================================================

Other keys (``format``, ``toc``...) are for Quarto's renderer and are left alone; a bad
value or an ``execute`` option with no equivalent is a located warning. The body, the front
matter blanked so line numbers match the file, goes through the same Markdown (fences,
``execblog.markdown.pandoc``'s divs and shortcodes, math) as a Markdown post.
"""

from __future__ import annotations

import copy
import datetime
import logging
import os
import re
from collections.abc import Callable
from typing import Any

import yaml
from pelican.utils import get_date, slugify

from execblog.engine.collect import FenceExtension, FenceReader
from execblog.engine.options import COMMON_OPTIONS
from execblog.kernel.diagnostics import emit, shown_path
from execblog.kernel.site_errors import fail_at_end

log = logging.getLogger(__name__)
_FRONT = re.compile(r"\A(?:\ufeff)?---[ \t]*\n(?P<yaml>.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)",
                    re.S)
# Quarto's execute options that have an equivalent here (the rest is warned about);
# ``freeze`` is what the fence cache does anyway.
EXECUTE = ("echo", "eval", "output", "warning", "error", "include")
EXECUTE_SILENT = ("freeze", "cache", "daemon", "enabled")
KERNEL_LANGUAGES = {"python3": "python", "python": "python", "ir": "r", "julia": "julia",
                    "bash": "bash", "xcpp17": "cpp"}

Problem = Callable[[int | None, str], None]


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(the YAML text or None, the body with the front matter blanked, YAML's first line)."""
    match = _FRONT.match(text)
    if match is None:
        return None, text, 0
    blank = "\n" * text.count("\n", 0, match.end())
    if not text[: match.end()].endswith("\n"):
        blank += "\n"
    return match["yaml"] or "", blank + text[match.end():], 2


def key_line(yaml_text: str, key: str, first: int) -> int | None:
    """The file line of a top-level ``key:`` of the front matter."""
    for offset, line in enumerate(yaml_text.splitlines()):
        if re.match(rf"{re.escape(key)}\s*:", line):
            return first + offset
    return None


def _names(value: Any) -> list[str]:
    """Quarto's author forms -> names."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("name", "")
            if isinstance(item, dict):
                item = item.get("literal") or " ".join(
                    str(item[k]) for k in ("given", "family") if item.get(k))
        if str(item or "").strip():
            names.append(str(item).strip())
    return names


def _date(value: Any, source_path: str) -> datetime.datetime | None:
    """A Quarto date value as a datetime (None: not a date)."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime.combine(value, datetime.time())
    text = str(value).strip()
    if text.lower() in ("today", "now"):
        now = datetime.datetime.now()
        return now if text.lower() == "now" else now.replace(hour=0, minute=0, second=0,
                                                             microsecond=0)
    if text.lower() == "last-modified":
        return datetime.datetime.fromtimestamp(os.path.getmtime(source_path))
    try:
        return get_date(text)
    except (ValueError, OverflowError):
        return None


def execute_defaults(value: Any, problem: Problem, line: int | None) -> dict[str, Any]:
    """``execute:`` as fence option defaults (each value checked as a fence option is)."""
    if not isinstance(value, dict):
        problem(line, "execute: is not a mapping of options (e.g. 'echo: false'); ignored")
        return {}
    specs = {spec.name: spec for spec in COMMON_OPTIONS}
    found: dict[str, Any] = {}
    for name, raw in value.items():
        if name in EXECUTE_SILENT:
            continue
        spec = specs.get(str(name)) if name in EXECUTE else None
        if spec is None:
            problem(line, f"execute option {name!r} is not supported and was ignored "
                    f"(supported: {', '.join(EXECUTE)})")
            continue
        text = str(raw).lower() if isinstance(raw, bool) else str(raw)
        try:
            found[spec.name] = spec.parse(text)
        except ValueError as exc:
            problem(line, f"bad value {raw!r} for execute option {name!r}: {exc}; ignored")
    if found.get("include") is False:
        found["echo"] = found["output"] = False
    return found


def kernel_language(value: Any) -> str | None:
    """The language of ``jupyter: python3`` (or a jupytext ``kernelspec`` mapping)."""
    if isinstance(value, dict):
        spec = value.get("kernelspec") or value
        language = spec.get("language") if isinstance(spec, dict) else None
        if language:
            return str(language).lower()
        value = spec.get("name") if isinstance(spec, dict) else None
    if not value:
        return None
    name = str(value).lower()
    return KERNEL_LANGUAGES.get(name, re.sub(r"[\d.-]+$", "", name) or name)


class QuartoReader(FenceReader):
    """``.qmd`` posts: the front matter mapped (see the module's table), the body read as
    a Markdown post's, with the ``execute:`` options as its fences' defaults."""

    enabled = True
    file_extensions = ["qmd"]

    def read(self, source_path: str) -> tuple[str, dict[str, Any]]:
        if _for_includes(source_path, self.settings.get("PATH") or ""):
            return "", {"status": "skip", "title": _stem_title(source_path)}
        with open(source_path, encoding="utf-8") as handle:
            text = handle.read().replace("\r\n", "\n")
        front, body, first = split_front_matter(text)
        shown = shown_path(source_path)

        strict = self.settings.get("FENCES_STRICT") is True

        def problem(line: int | None, message: str) -> None:
            """A warning; an error that fails the build at its end in strict builds."""
            said = emit(shown, line, "error" if strict else "warning", message)
            if strict:
                fail_at_end(said, log)

        data: dict[str, Any] = {}
        if front is not None:
            try:
                loaded = yaml.safe_load(front)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                problem(first + mark.line if mark else first,
                        f"the front matter is not YAML ({getattr(exc, 'problem', exc)}); "
                        "it is ignored")
                loaded = None
            if isinstance(loaded, dict):
                data = {str(k): v for k, v in loaded.items()}
            elif loaded is not None:
                problem(first, "the front matter is not a mapping of keys; it is ignored")
        at = {key: key_line(front or "", key, first) for key in data}
        defaults = {}
        if "execute" in data:
            defaults = execute_defaults(data["execute"], problem, at["execute"])
        content = self._body(source_path, body, defaults)
        metadata = self._metadata(data, at, source_path, problem)
        return content, metadata

    def _body(self, source_path: str, body: str, defaults: dict[str, Any]) -> str:
        """The body's HTML, read as a Markdown post's; the fence collector of this read
        takes the post's defaults."""
        shared = self.settings
        markdown = dict(shared["MARKDOWN"])
        markdown["extensions"] = [_with_defaults(e, defaults)
                                  for e in markdown.get("extensions") or []]
        self.settings = {**shared, "MARKDOWN": markdown}
        try:
            content, _meta = self.read_text(source_path, body)
        finally:
            self.settings = shared
        return content

    def _metadata(self, data: dict[str, Any], at: dict[str, int | None], source_path: str,
                  problem: Problem) -> dict[str, Any]:
        found: dict[str, Any] = {}
        title = data.get("title")
        found["title"] = str(title).strip() if title else _stem_title(source_path)
        if not title:
            problem(1, "no title in the front matter: the file's name is the title")
        if data.get("subtitle"):
            found["subtitle"] = str(data["subtitle"])
        for key, name in (("date", "date"), ("date-modified", "modified")):
            if data.get(key) is None:
                continue
            when = _date(data[key], source_path)
            if when is None:
                problem(at[key], f"{key}: {data[key]!r} is not a date Quarto or Execblog "
                        "reads (2024-03-01, March 1, 2024, today, last-modified); ignored")
            else:
                found[name] = self.process_metadata(name, when.isoformat(" "))
        authors = _names(data.get("author") or data.get("authors") or [])
        if authors:
            found["authors"] = self.process_metadata("authors", authors)
        tags = data.get("categories") or data.get("tags")
        if tags:
            items = tags if isinstance(tags, list) else [tags]
            found["tags"] = self.process_metadata("tags", [str(t) for t in items])
        if data.get("description"):
            found["summary"] = self._summary(str(data["description"]))
        if data.get("draft") is True:
            found["status"] = "draft"
        bibliography = data.get("bibliography")
        if bibliography:
            found["bibliography"] = [str(b) for b in bibliography] if isinstance(
                bibliography, list) else str(bibliography)
        language = kernel_language(data.get("jupyter"))
        if language:
            found["language"] = language
        # as Quarto names a page: by its file (documents often share a title)
        found["slug"] = str(data.get("slug") or "").strip() or self._file_slug(source_path)
        return found

    def _file_slug(self, source_path: str) -> str:
        stem = os.path.splitext(os.path.basename(source_path))[0]
        subs = self.settings.get("SLUG_REGEX_SUBSTITUTIONS") or []
        return slugify(stem, regex_subs=subs,
                       preserve_case=bool(self.settings.get("SLUGIFY_PRESERVE_CASE"))) or stem

    def _summary(self, text: str) -> str:
        """``description`` as Markdown, as Pelican renders a Markdown post's Summary (after
        the body: the fence collector and the include pass leave it alone)."""
        if "meta" in self._md.preprocessors:
            self._md.preprocessors.deregister("meta")
        self._md.reset()
        return self.process_metadata("summary", self._md.convert(text))


def _with_defaults(extension: Any, defaults: dict[str, Any]) -> Any:
    """The fence collector extension with this post's defaults over the site's."""
    if not defaults or not isinstance(extension, FenceExtension):
        return extension
    own = copy.copy(extension)
    own.defaults = {**extension.defaults, **defaults}
    return own


def _for_includes(source_path: str, content_root: str) -> bool:
    """Whether Quarto would render no page of this file: its name, or a folder's name
    under the content folder, starts with "_" (such files are there to be included)."""
    rel = os.path.relpath(source_path, content_root) if content_root else source_path
    parts = rel.replace(os.sep, "/").split("/")
    return any(part.startswith("_") for part in parts if part not in ("..", "."))


def _stem_title(source_path: str) -> str:
    stem = os.path.splitext(os.path.basename(source_path))[0]
    return stem.replace("-", " ").replace("_", " ").strip().capitalize() or stem
