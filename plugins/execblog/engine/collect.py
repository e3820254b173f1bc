"""Collect: the Markdown extension that finds engine fences and leaves placeholders.

The extension runs inside Pelican's own Markdown reader, so the parser that renders a post
is the one that decides what a fence is. It runs right after whitespace normalisation, while
line numbers still match the file, and hands each post's fences to the engine.

Fences are found where Markdown allows them: at the top level, in blockquotes (``> ``
prefixed lines) and in list items (indented by the item's indentation). A fence's body is
taken out of its container (quote markers removed, dedented by the fence's indentation) and
its placeholder is put back inside the same container, indented the way Python-Markdown
nests list items (four spaces a level). Quarto's openers (```` ```{python} ````) run like
```` ```python exec ````, and markdown-exec's (```` ```python exec="1" ````) with its meaning
(:mod:`.mdexec`).

Every other fence is left to Python-Markdown's ``fenced_code``, given lines it reads
(:mod:`.plain`: ```` ```{{python}} ````, openers it cannot read, ```` ```md exec="1" ````).
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import hashlib
import html
import logging
import os
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from pelican.readers import MarkdownReader

from execblog.kernel.contents import reading
from execblog.kernel.diagnostics import emit, shown_path
from execblog.kernel.site_errors import fail_at_end
from execblog.sources import mdexec

from .model import Fence, FenceKind
from .options import (
    ALIASES,
    OptionError,
    kind_specs,
    parse_assignments,
    split_opener,
    take_option_lines,
    unsupported_options,
    validate,
)
from .plain import VERBATIM, literate_fence, plain_fence

OPEN = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
QUOTE = re.compile(r" {0,3}> ?")  # one blockquote level, as Python-Markdown strips it
ITEM = re.compile(r"^(?P<indent> *)(?P<marker>[-*+]|\d{1,9}[.)])(?P<space> +|$)")
ADMONITION = re.compile(r"^(?P<indent> *)!!! ?[\w-]")  # its body is indented by four spaces
# Quarto's executable opener: {python}, {python echo=false}, {r, echo=FALSE}; not Pandoc's
# {.python} class, {=html} raw block or Quarto's {{python}} (shown, never run).
BRACE = re.compile(r"^\{(?P<lang>[A-Za-z][\w+-]*)(?P<rest>[^{}]*)\}(?P<after>.*)$")
# Quarto's inline code, `{python} expr`, in prose: run, its value shown in the sentence.
INLINE = re.compile(r"(?<!`)`\{(?P<lang>[A-Za-z][\w+-]*)\}[ \t]+(?P<expr>[^`\s][^`]*)`(?!`)")
# Heading ids of each post read, for the ids of headings its fences print (post_ids).
_POST_IDS: dict[str, frozenset[str]] = {}


@dataclass
class _Reading:
    path: str
    done: bool = False
    ids_seen: bool = False


def post_ids(path: str) -> frozenset[str]:
    """The ids of the elements Python-Markdown made for the post at ``path`` (its
    headings, with the toc extension's ids) when it was last read."""
    return _POST_IDS.get(path, frozenset())


_current: contextvars.ContextVar[_Reading | None] = contextvars.ContextVar("fences_reading",
                                                                        default=None)


def placeholder(fence: Fence) -> str:
    """The HTML comment that stands for a fence until its outputs are rendered."""
    digest = hashlib.sha1(fence.path.encode()).hexdigest()[:12]
    return f"<!--fence:{digest}:{fence.index}-->"


_FIRST_H1 = re.compile(r"\A\s*<h1\b[^>]*>(?P<inner>.*?)</h1>\s*", re.S)
_PERMALINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.S)


def _heading_title(content: str, source_path: str) -> tuple[str, str]:
    """A post with no ``Title:``, as MkDocs reads a page: its first ``# `` heading (which
    leaves the body) when the body opens with one, else its file name."""
    match = _FIRST_H1.match(content)
    inner = _PERMALINK.sub("", match["inner"]) if match else ""  # toc's "#" link
    text = re.sub(r"<[^>]+>", "", inner).strip()
    if text:
        return content[match.end():], html.unescape(text)
    stem = os.path.splitext(os.path.basename(source_path))[0]
    return content, stem.replace("-", " ").replace("_", " ").strip().capitalize() or stem


def _untitled_partial(source_path: str) -> bool:
    """A Markdown file whose name starts with "_" and whose header names no title: a piece
    a Quarto document includes (Quarto renders no page of it), not a post."""
    if not os.path.basename(source_path).startswith("_"):
        return False
    try:
        with open(source_path, encoding="utf-8") as handle:
            head = handle.read(4096).lstrip("\ufeff").split("\n\n", 1)[0]
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"(?im)^title[ \t]*:", head) is None


@contextlib.contextmanager
def _reading_post(source_path: str) -> Iterator[None]:
    """While a post's Markdown is converted: this module's state of the reading, and the
    kernel's name of the post (``reading_path``, for other Markdown extensions)."""
    token = _current.set(_Reading(source_path))
    try:
        with reading(source_path):
            yield
    finally:
        _current.reset(token)


class FenceReader(MarkdownReader):
    """Pelican's Markdown reader, telling the extension which file it is reading."""

    def read(self, source_path: str):
        if _untitled_partial(source_path):  # Quarto's: there to be included, not a post
            return "", {"status": "skip", "title": os.path.basename(source_path)}
        with _reading_post(source_path):
            content, metadata = super().read(source_path)
        if "title" not in metadata:  # a page written for MkDocs: its first heading
            content, title = _heading_title(content, source_path)
            metadata["title"] = self.process_metadata("title", title)
        return content, metadata

    def read_text(self, source_path: str, text: str) -> tuple[str, dict[str, Any]]:
        """Read ``text`` as the Markdown of the post at ``source_path``: a source converted
        to Markdown (a notebook) is read as Pelican reads a Markdown file."""
        self._source_path = source_path
        self._md = Markdown(**self.settings["MARKDOWN"])
        with _reading_post(source_path):
            content = self._md.convert(text)
            meta = self._parse_metadata(self._md.Meta) if hasattr(self._md, "Meta") else {}
        return content, meta


class FenceExtension(Extension):
    """Registers the preprocessor; ``on_post(path, fences)`` receives each post's fences."""

    def __init__(
        self,
        kinds: Callable[[], list[FenceKind]],
        defaults: dict[str, Any],
        relative: Callable[[str], str],
        on_post: Callable[[str, list[Fence]], None],
        backend_names: tuple[str, ...] | None = None,
        strict: bool = False,
    ):
        super().__init__()
        self.strict = strict  # FENCES_STRICT: what the collector warns of is an error
        self.backend_names = backend_names  # what backend= accepts: auto and the candidates
        self.kinds = kinds
        self.defaults = defaults
        self.relative = relative
        self.on_post = on_post

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown's API name)
        # Priority 28: after normalize_whitespace (30), before meta (27) and fenced_code (25).
        md.preprocessors.register(FencePreprocessor(md, self), "fences_collect", 28)
        # After toc (5), which gives headings their ids.
        md.treeprocessors.register(_PostIds(md), "fences_post_ids", 4)


class _PostIds(Treeprocessor):
    """Notes the ids of a post's elements (see :func:`post_ids`)."""

    def run(self, root: Element) -> None:
        reading = _current.get()
        if reading is None or reading.ids_seen:
            return  # not a post body, or its summary after it
        reading.ids_seen = True
        _POST_IDS[reading.path] = frozenset(e.get("id") for e in root.iter() if e.get("id"))


# -- containers: blockquotes and list items -------------------------------------------------


@dataclass
class _Item:
    """An open list item (or admonition): where its marker is and where its text starts."""

    marker: int  # indentation of the list marker
    content: int  # column of the item's text (CommonMark's rule)
    name: str = "list item"

    @property
    def depth(self) -> int:
        """Python-Markdown's nesting level: a nested list is indented by four spaces."""
        return self.marker // 4 + 1

    @property
    def inner(self) -> int:
        """Lines indented less than this (after a blank line) end the item."""
        return min(self.content, 4 * self.depth)

    @property
    def limit(self) -> int:
        """The deepest indentation of a fence in the item (deeper: an indented code block)."""
        return max(self.content, 4 * self.depth) + 3


@dataclass
class _Opener:
    """A fence opener found in its container."""

    line: int  # index in ``lines``
    quotes: int  # blockquote depth
    indent: int  # spaces before the fence within the quote (the body is dedented by it)
    fence: str
    info: str
    item: _Item | None  # the list item holding it
    lead: str = ""  # the list marker, when the fence opens on the item's own line

    @property
    def where(self) -> str:
        return self.item.name if self.item else "blockquote" if self.quotes else "file"

    def prefix(self) -> str:
        """What the placeholder line starts with to stay in the same container."""
        if self.lead:
            return self.lead
        return "> " * self.quotes + " " * (4 * self.item.depth if self.item else 0)

    def around(self, neighbour: str | None) -> list[str]:
        """The blank line between the placeholder and a neighbouring line: one that stays in
        the blockquote when the neighbour is in it too (a quote's paragraph must not run into
        the placeholder), none when the neighbour is blank."""
        if neighbour is None:
            return []
        quotes, rest = _unquote(neighbour)
        if not rest.strip():
            return []
        return [("> " * self.quotes).rstrip() if quotes >= self.quotes else ""]


def _unquote(line: str, limit: int | None = None) -> tuple[int, str]:
    depth, pos = 0, 0
    while limit is None or depth < limit:
        match = QUOTE.match(line, pos)
        if not match:
            break
        depth, pos = depth + 1, match.end()
    return depth, line[pos:]


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _dedent(text: str, spaces: int) -> str:
    return text[min(spaces, _indent(text)):]


def _is_opener(match: re.Match[str] | None) -> bool:
    return bool(match) and not (match["fence"][0] == "`" and "`" in match["info"])


class _Containers:
    """Follows blockquotes, list items and ``!!!`` admonitions line by line, far enough to
    tell where a fence belongs: a fence indented under a list item is in the item, the same
    indentation elsewhere is an indented code block (never run)."""

    def __init__(self) -> None:
        self.quotes = 0
        self.items: list[_Item] = []
        self.blank = False

    def opener(self, lines: list[str], i: int) -> _Opener | None:
        line = lines[i]
        quotes, rest = _unquote(line)
        if quotes != self.quotes:
            self.quotes, self.items = quotes, []
        if not rest.strip():
            self.blank = True
            return None
        after_blank, self.blank = self.blank, False
        indent = _indent(rest)
        item = ITEM.match(rest)
        if item:
            while self.items and self.items[-1].marker >= indent:
                self.items.pop()
            space = len(item["space"])
            content = item.end("marker") + (space if 1 <= space <= 4 else 1)
            self.items.append(_Item(indent, content))
            text = rest[min(content, len(rest)):]
            match = OPEN.match(text)
            if not _is_opener(match) or len(match["indent"]) > 3:
                return None
            lead = line[: len(line) - len(text)] + match["indent"]
            return _Opener(i, quotes, content + len(match["indent"]), match["fence"],
                           match["info"], self.items[-1], lead)
        admonition = ADMONITION.match(rest)
        if admonition:
            while self.items and self.items[-1].marker >= indent:
                self.items.pop()
            self.items.append(_Item(indent, indent + 4, "admonition"))
            return None
        if after_blank:
            while self.items and indent < self.items[-1].inner:
                self.items.pop()
        match = OPEN.match(rest)
        if not _is_opener(match):
            return None
        while self.items and not self.items[-1].marker < indent <= self.items[-1].limit:
            if indent > self.items[-1].limit:
                return None  # an indented code block inside the item
            self.items.pop()
        if not self.items and indent > 3:
            return None  # an indented code block
        owner = self.items[-1] if self.items else None
        return _Opener(i, quotes, indent, match["fence"], match["info"], owner)


def _body(lines: list[str], op: _Opener) -> tuple[list[str], int | None, int]:
    """The fence's body lines out of their container, the index of its closing line (None:
    none before the end of the container) and the index where scanning goes on."""
    closer = re.compile(rf"^(?P<indent> *){re.escape(op.fence[0])}{{{len(op.fence)},}}\s*$")
    deepest = op.indent + 3 if op.item else 3
    body: list[str] = []
    for j in range(op.line + 1, len(lines)):
        quotes, rest = _unquote(lines[j], op.quotes)
        if quotes < op.quotes:
            return body, None, j  # the blockquote ended
        if op.item and rest.strip() and _indent(rest) < op.item.inner:
            return body, None, j  # the list item ended
        match = closer.match(rest)
        if match and len(match["indent"]) <= deepest:
            return body, j, j + 1
        body.append(_dedent(rest, op.indent))
    return body, None, len(lines)


# -- which kind claims an opener --------------------------------------------------------------


TABBED = re.compile(r'^===[!+]?[ \t]+"[^"]*"[ \t]*$')  # MkDocs' pymdownx.tabbed tab opener
LABEL_ID = re.compile(r"[A-Za-z][\w:-]{0,63}")  # what the id option takes
# Quarto cells Quarto itself draws (no engine runs them): what to write here instead.
QUARTO_ONLY = {lang: " (Quarto draws these diagrams; a ```diagram fence is drawn here)"
               for lang in ("dot", "mermaid")}


@dataclass
class _Claim:
    kind: FenceKind | None  # None: no installed kind runs it (``problem`` says why)
    brace: re.Match[str] | None = None  # a Quarto opener
    problem: str | None = None
    markdown_exec: bool = False  # a markdown-exec opener (```python exec="1")


def _claim(kinds: list[FenceKind], info: str) -> _Claim | None:
    """Which kind runs a fence with this opener; None for a plain code block."""
    words = info.split()
    if not words:
        return None
    brace = BRACE.match(info.strip())
    if brace:
        lang = brace["lang"]
        kind = _by_language(kinds, lang)
        if kind is None:
            return _Claim(None, brace, _unknown(kinds, lang, f"```{{{lang}}}"))
        if kind.marker is None:
            return _Claim(None, brace, f"{kind.name} fences are not opened with "
                          f"```{{{lang}}}: write ```{kind.language}")
        return _Claim(kind, brace)
    words = mdexec.words(info)
    if mdexec.is_opener(words):
        if not mdexec.truthy(next(w for w in words if w.startswith("exec="))[5:]):
            return None  # exec="0": a plain code block
        kind = _by_language(kinds, mdexec.LANGUAGES.get(words[0], ""))
        return _Claim(kind, markdown_exec=True) if kind and kind.marker else None
    for kind in kinds:
        if words[0] != kind.language and words[0] not in kind.aliases:
            continue
        if kind.marker is None or (len(words) > 1 and words[1] == kind.marker):
            return _Claim(kind)
    markers = {kind.marker for kind in kinds if kind.marker}
    if len(words) > 1 and words[1] in markers:
        return _Claim(None, None, _unknown(kinds, words[0], f"```{words[0]} {words[1]}"))
    return None


def _loose_label(raw: dict[str, tuple[str, int]]) -> list[tuple[int, str]]:
    """Quarto takes any text as a cell's ``label`` (``#| label: my plot``); one that is no
    id is left out, with a note, rather than failing the cell."""
    text, line = raw.get("label", ("", 0))
    if not text or LABEL_ID.fullmatch(text.strip("\"'")):
        return []
    del raw["label"]
    return [(line, f"label {text!r} is not an id (a letter, then letters, digits, _ : -): "
                   "the cell has no id; write a label such as fig-name to refer to it")]


def _by_language(kinds: list[FenceKind], lang: str) -> FenceKind | None:
    """The kind that runs ``lang`` code: one opened with ``exec`` first (a kind with
    another marker, such as a notebook's stored outputs, only where none is)."""
    found = [k for k in kinds if lang == k.language or lang in k.aliases]
    return next((k for k in found if k.marker == "exec"), found[0] if found else None)


def _unknown(kinds: list[FenceKind], lang: str, opener: str) -> str:
    aliases: dict[str, set[str]] = {}
    for k in kinds:  # one entry a language (a kind and its stored-output twin share one)
        aliases.setdefault(k.language, set()).update(k.aliases)
    names = sorted(lang + (f" ({', '.join(sorted(a))})" if a else "")
                   for lang, a in aliases.items())
    known = sorted({k.language for k in kinds} | {a for k in kinds for a in k.aliases})
    close = difflib.get_close_matches(lang.lower(), known, n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (f"unknown fence kind {lang!r} ({opener}): no installed kind runs it; "
            f"installed kinds: {', '.join(names)}{hint}")


def _host(kinds: list[FenceKind]) -> FenceKind:
    """Whose options a fence of no installed kind is shown with (only the common ones)."""
    return min(kinds, key=lambda k: (k.uses_backend, len(k.options), k.name))


def _language(info: str) -> str:
    """The language an opener names: ``r`` for ``r exec``, ``julia`` for ``{julia}``."""
    word = info.strip().lstrip("{").split(maxsplit=1)[0] if info.strip() else "unknown"
    return re.sub(r"[^\w+-]", "", word.rstrip("}")) or "unknown"


def _brace_words(rest: str, line: int) -> list[str]:
    """Quarto/Pandoc options inside the braces: ``echo=false``, comma or space separated."""
    lexer = shlex.shlex(rest, posix=True)
    lexer.whitespace_split = True
    lexer.whitespace += ","
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as exc:
        raise OptionError(f"cannot read the fence options ({exc})", line) from exc


# -- the preprocessor ---------------------------------------------------------------------------


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
        containers = _Containers()
        tails: dict[int, list[str]] = {}  # closing line of a literate md fence -> its end
        stash = self.md.htmlStash.store
        i = 0
        while i < len(lines):
            if i in tails:
                out += tails.pop(i)
                i += 1
                continue
            op = containers.opener(lines, i)
            if op is None:
                out.append(self._inline(reading.path, i + 1, lines[i], kinds, fences))
                i += 1
                continue
            claim = _claim(kinds, op.info)
            body, close, end = _body(lines, op)
            self._check_swallowed(reading.path, op, body, kinds, claim is not None)
            top = close is not None and not (op.quotes or op.item or op.indent)
            if claim is not None and claim.kind is None and claim.brace and top:
                # a Quarto cell of a language no kind runs ({r}, {dot}): code, not a failure
                self._warn(reading.path, i + 1, f"{claim.problem}; it is shown as code, "
                           f"not run{QUARTO_ONLY.get(claim.brace['lang'], '')}")
                claim = None
            literate = claim is None and top and literate_fence(op.fence, op.info,
                                                                lines[i:end], stash)
            if literate:  # its body is the post's Markdown, read on from its first line
                out += literate[0]
                tails[close] = literate[1]
                i += 1
                continue
            if claim is None:
                out.extend(plain_fence(op.fence, op.info, lines[i:end], stash,
                                       lambda text, at=i + 1: self._warn(reading.path, at, text))
                           if top else lines[i:end])
                i = end
                continue
            fence = self._fence(reading.path, i + 1, claim, kinds, op.info, body, len(fences))
            if close is None and fence.problem is None:
                container = "the end of the file" if end == len(lines) else (
                    f"the end of the {op.where} (line {end + 1})")
                fence.problem = f"unterminated fence: no closing {op.fence} before {container}"
                fence.problem_line = i + 1
            fences.append(fence)
            out += op.around(out[-1] if out else None)
            out.append(op.prefix() + self.md.htmlStash.store(placeholder(fence)))
            out += op.around(lines[end] if end < len(lines) else None)
            i = end
        if fences:
            self.ext.on_post(reading.path, fences)
        return out

    def _fence(
        self, path: str, line: int, claim: _Claim, kinds: list[FenceKind], info: str,
        body: list[str], index: int,
    ) -> Fence:
        kind = claim.kind or _host(kinds)
        fence = Fence(
            path=path, source=self.ext.relative(path), line=line, body_line=line + 1,
            kind=kind.name, code="\n".join(body), exec_code="", options={}, index=index,
        )
        specs = kind_specs(kind, self.ext.backend_names)
        defaults = {**self.ext.defaults, **dict(kind.defaults)}
        count = 0
        if claim.kind is None:  # no installed kind runs it: show it, with the error
            fence.kind = _language(info)  # the engine records it without running anything
            fence.options = validate({}, specs, defaults).updated({"echo": True, "output": True})
            fence.problem, fence.problem_line = claim.problem, line
        else:
            try:
                if claim.markdown_exec:
                    opener = mdexec.read_opener(split_opener(info, line), line,
                                                [s.name for s in specs] + list(ALIASES), index)
                    for note in opener.notes:
                        self._warn(path, line, note)
                    raw = opener.options
                    body, missing = mdexec.include_snippets(body, self._snippet_places(path))
                    for name in missing:
                        self._warn(path, line, f'snippet --8<-- "{name}" not found (looked '
                                   "next to the post and under the content folder and its "
                                   "snippets/): the fence is shown, not run; put the code in "
                                   "the fence or the file next to the post")
                        raw["eval"] = ("false", line)
                else:
                    if claim.brace:
                        words = (_brace_words(claim.brace["rest"], line)
                                 + split_opener(claim.brace["after"], line))
                    else:
                        words = split_opener(info, line)[2 if kind.marker else 1:]
                    raw = parse_assignments(words, line)
                    from_lines, count = take_option_lines(body, line + 1, kind.comment)
                    raw.update(from_lines)
                raw, notes = unsupported_options(raw, specs)
                notes += _loose_label(raw)
                for where, note in notes:
                    self._warn(path, where, note)
                fence.options = validate(raw, specs, defaults)
            except OptionError as exc:
                fence.options = validate({}, specs, defaults)
                fence.problem, fence.problem_line = str(exc), exc.line
                count = 0
        # echo: fenced shows the #| lines too (render.py); a transcript runs its prompt lines
        shown = 0 if fence.options.echo == "fenced" else count
        fence.code = "\n".join(body[shown:])
        code = mdexec.runnable(fence.options.syntax, "\n".join(body[count:]))
        if claim.markdown_exec:
            code = mdexec.as_markdown_exec_runs(kind.language, code)
        fence.exec_code = "\n" * (line + count) + code
        fence.code_line = line + shown + 1
        return fence

    def _snippet_places(self, path: str) -> list[Path]:
        """Where pymdownx.snippets files are looked for: next to the post, the content
        folder, and a ``snippets`` folder in either."""
        rel = self.ext.relative(path)
        root = Path(path[: -len(rel)] if rel and path.endswith(rel) else os.path.dirname(path))
        here = Path(path).parent
        return [here, here / "snippets", root, root / "snippets"]

    def _warn(self, path: str, line: int | None, message: str) -> None:
        """A located warning; in a strict build an error, which fails it at its end."""
        severity = "error" if self.ext.strict else "warning"
        origins = getattr(self.md, "pandoc_origins", None)  # {{< include >}} moved lines
        if origins and line:
            line = origins[min(line, len(origins)) - 1]
        text = emit(shown_path(path), line, severity, message)
        if severity == "error":

            fail_at_end(text, logging.getLogger(__name__))

    def _inline(self, path: str, line: int, text: str, kinds: list[FenceKind],
                fences: list[Fence]) -> str:
        """Quarto's inline code (`` `{python} expr` ``): each becomes a fence of its own, run
        in the post's session after the fences above it, whose value the renderer shows in
        the sentence (``output`` is ``inline``). A language no kind runs is a warning."""
        if TABBED.match(text) and not self._tabbed_read():
            self._warn(path, line, f"{text.strip()}: a pymdownx.tabbed tab, which this site "
                       "does not read (the extension is not installed or enabled): its "
                       "indented content is shown as a code block and its fences are not "
                       "run; write the content without the tab")
        examples = [m.span() for m in re.finditer(r"(`{2,}).+?\1", text)]  # ``...``: shown
        pieces: list[str] = []
        done = 0
        for match in INLINE.finditer(text):
            if any(start <= match.start() < end for start, end in examples):
                continue
            kind = _by_language(kinds, match["lang"])
            if kind is None or kind.marker != "exec":
                self._warn(path, line, f"Quarto's inline code {match[0]} is not run: no "
                           f"installed kind runs {match['lang']!r} inline; it is shown as code")
                continue
            code = match["expr"].strip()
            specs = kind_specs(kind, self.ext.backend_names)
            options = validate({}, specs, {**self.ext.defaults, **dict(kind.defaults)})
            fence = Fence(path=path, source=self.ext.relative(path), line=line,
                          body_line=line, kind=kind.name, code=code,
                          exec_code="\n" * (line - 1) + code,
                          options=options.updated({"echo": False, "output": "inline"}),
                          index=len(fences), code_line=line)
            fences.append(fence)
            pieces += [text[done:match.start()], self.md.htmlStash.store(placeholder(fence))]
            done = match.end()
        return "".join(pieces) + text[done:]

    def _tabbed_read(self) -> bool:
        """Whether pymdownx.tabbed is one of this Markdown's extensions."""
        return any(type(e).__module__.startswith("pymdownx.tabbed")
                   for e in self.md.registeredExtensions)

    def _check_swallowed(self, path: str, op: _Opener, body: list[str],
                         kinds: list[FenceKind], engine: bool) -> None:
        """Warn when a fence's body holds a line that opens another fence: its closing
        fence is most likely missing, and it swallowed prose and the next fence. A line of
        the same character and at least as long would have needed a closing line that
        closes this fence too, so only such lines are suspicious (a ```` fence may show
        ``` fences); in a plain code block only openers of engine fences are."""
        for offset, text in enumerate(body):
            match = OPEN.match(text)
            if (not _is_opener(match) or len(match["indent"]) > 3 or not match["info"].strip()
                    or match["fence"][0] != op.fence[0] or len(match["fence"]) < len(op.fence)):
                continue
            if (not engine and _claim(kinds, match["info"]) is None
                    and not VERBATIM.match(match["info"].strip())):
                continue
            opened, inner = op.line + 1, op.line + 2 + offset
            longer = op.fence[0] * (len(match["fence"]) + 1)
            emit(shown_path(path), opened, "warning",
                 f"the fence opened at line {opened} runs on to line {inner}, which opens "
                 f"another fence ({text.strip()}): is the closing {op.fence} of line {opened} "
                 f"missing? (a fence that shows fences needs a longer opener, e.g. {longer})")
            return
