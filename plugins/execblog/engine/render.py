"""Render: fence results -> HTML through the output-renderer hooks; figures -> files.

Payloads are written under ``<output>/fences/`` with content-hashed names and linked as
``{static}/fences/<name>``, which Pelican rewrites per context: relative on pages in
development, absolute in feeds. A file derived from one (a figure's dark rendering,
``<name>.dark-<v>.svg``) is written next to it by :meth:`Renderer.variant`, made once and
kept in the fence cache's ``variants/`` folder; each fence's highlighted source is kept in
``highlight/``. Both are checked when read (``execblog.kernel.store.read_derived``: a checksum, and
for highlighted sources their text against the fence's code): a bad one is a warning and is
made again.

Markdown a fence produces (``_repr_markdown_``, ``output: asis``) is converted with the
site's own Markdown settings (``MARKDOWN``, with pelican-render-math's extension), less
``meta`` and the fence collector, so ``$x$`` in it becomes the same math markup as in the
post. Several figures of a fence with a caption (or ``layout-ncol``) become sub-figures of
one ``<figure>``: see :meth:`Renderer._figures`.

How a fence shows its source follows its options (markdown-exec's, see ``sources.mdexec``):
``source`` puts it above or below the outputs, in a block, in two labelled panes
(``tabbed-left``/``tabbed-right``, titled by ``tabs``) or, as ``console``, in one code
block with the text it printed; ``title`` heads it, ``syntax`` highlights it (``pycon``),
lines marked ``markdown-exec: hide`` are not shown, and ``echo: fenced`` shows it with its
Quarto opener and ``#|`` lines. ``result`` shows printed text as a code block of that
language; ``output: html`` puts it into the page as HTML.

Headings in a fence's Markdown output get ids that no element of the post has (the
post's ids: ``collect.post_ids``): ``idprefix`` is put before them, and one still taken
gets ``_1``, ``_2``... as the toc extension does; links to them follow.

The ``<pre>`` of the source and of text outputs (streams, values, tracebacks) is what
scrolls sideways on a narrow screen, so it is a keyboard-reachable named region:
``tabindex="0" role="region" aria-label="Code"`` (``"Output"``, ``"Error output"`` for
stderr, ``"Traceback"``). The theme's script numbers names that repeat on a page.
"""

from __future__ import annotations

import ast
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from html import escape, unescape
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import markdown
import pygments
from markdown.treeprocessors import Treeprocessor
from pygments import highlight
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from execblog.kernel.diagnostics import emit, own_line
from execblog.kernel.numbering import subfigure_letter
from execblog.kernel.site_errors import cache_root
from execblog.kernel.store import keep_derived, place, read_derived, sha256, trusts_derived
from execblog.kernel.xmlsafe import strip_illegal
from execblog.sources import mdexec

from .bounds import cut_note
from .figures import dark_rendering, figure_file, is_figure
from .lean_html import LeanHtmlFormatter
from .model import (
    CACHED,
    ERROR,
    FAILURES,
    SKIPPED,
    STREAM,
    Fence,
    FenceKind,
    FenceOptions,
    FenceResult,
    Output,
    RenderContext,
)
from .settings import SettingsError

OUTPUT_DIR = "fences"
VARIANTS_DIR = "variants"  # in the fence cache: files derived from figures (Renderer.variant)
HIGHLIGHT_DIR = "highlight"  # in the fence cache: highlighted sources (Renderer._source)
HIGHLIGHT_FORMAT = 3  # bump when _kept_highlight's HTML changes for the same inputs
# (2: kept files carry a checksum, execblog.kernel.store.seal)
PYGMENTS_VERSION = pygments.__version__
BOX = '<div class="fence-outputs">'
REGION = ' tabindex="0" role="region" aria-label="{}"'
# The <pre> a builtin text renderer writes (fences.builtin.html), and the region's name.
TEXT_PRE = re.compile(r'<pre class="(fence-(?:text|stream|traceback)\b[^"]*)">')
TERMINAL = frozenset({STREAM, ERROR, "text/plain"})  # text a program wrote, maybe for a tty
# ECMA-48 escapes: strings (OSC: titles, hyperlinks; DCS, PM, APC), CSI (colours, cursor
# moves), then any other escape (charset selection...). The visible text between them stays.
ESCAPES = re.compile(
    r"\x1b[\]PX^_][^\x07\x1b\n]*(?:\x07|\x1b\\)?"  # unterminated: to the end of the line
    r"|\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[ -/]*[0-~]?"
)


def terminal_text(text: str) -> str:
    """What a terminal would show: escape sequences removed, and on each line the text
    after a carriage return written over the line from column 0 (progress bars end as
    their last state). ``\\r\\n`` is a plain newline."""
    lines = []
    for line in ESCAPES.sub("", text).replace("\r\n", "\n").split("\n"):
        shown = ""
        for part in line.split("\r"):
            shown = part + shown[len(part):]
        lines.append(shown)
    return "\n".join(lines)


def xml_safe(html: str) -> str:
    """Drop the characters that XML (and so feeds) cannot hold."""
    return strip_illegal(html)


@dataclass
class HostRenderContext(RenderContext):
    """The engine's render context: also ``variant``, for files derived from a figure."""

    variant: Callable[[str, str, Callable[[], bytes | None]], str | None] | None = None


class _Linked:
    """Stands in Pelican's ``static_content`` so ``{static}/fences/x`` resolves."""

    def __init__(self, url: str):
        self.url = url


class Renderer:
    def __init__(self, pm: Any, kinds: dict[str, FenceKind], output_path: str,
                 context: dict[str, Any], settings: dict[str, Any] | None = None):
        self.pm = pm
        self.settings = settings or {}
        self.kinds = kinds
        self.output = Path(output_path)
        self.context = context
        self._formatter = LeanHtmlFormatter(cssclass="highlight")
        self._md: markdown.Markdown | None = None  # made at first use: most posts need none
        self._ids = _FenceIds()  # ids of generated headings (see the module's doc)
        self._taken: dict[str, set[str]] = {}  # post path -> ids in use on its page
        # Kept variants live in the site's fence cache; a renderer made without the site's
        # settings (not by the engine) keeps none.
        self._cache = cache_root(settings) if settings is not None else None
        self._variants = self._cache / VARIANTS_DIR if self._cache else None
        self._trusted = trusts_derived(settings)  # FENCES_MODE = "rerun": read none of them
        self._early: dict[str, Future[bytes | None]] = {}  # variant name -> being made
        self._threads: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def link(self, payload: bytes, ext: str) -> str:
        """Write ``payload`` as ``fences/<hash>.ext`` (unless already there, whole) and
        return its ``{static}`` link. A file left by an earlier build may be damaged: it
        is rewritten unless it holds ``payload`` whole."""
        rel = f"{OUTPUT_DIR}/{sha256(payload)[:20]}.{ext}"
        place(self.output / rel, payload)
        self.context.setdefault("static_content", {})[rel] = _Linked(rel)
        return "{static}/" + rel

    def variant(self, link: str, suffix: str, make: Callable[[], bytes | None]) -> str | None:
        """The file ``<name>.<suffix>`` next to the one ``link`` (from :meth:`link`) names,
        e.g. a figure's dark rendering, or None when ``make`` gives none for this file.

        The light file's hash fixes its variant, so ``make`` runs once: what it made is kept
        in the fence cache folder (``variants/``; an empty file: no variant) and copied from
        there into later builds' output (which Pelican empties), where it is left alone
        when the output still holds it whole. One that :meth:`prepare` is making is waited
        for."""
        stem = link.removeprefix("{static}/").rsplit(".", 1)[0]
        rel = f"{stem}.{suffix}"
        early = self._early.pop(Path(rel).name, None)
        if early is not None and early.exception() is None:
            payload = early.result()  # (also when the cache could not keep it)
        else:  # none made early, or it failed: made here, and an error raised here
            payload = self._kept_variant(Path(rel).name, make)
        if not payload:
            return None
        place(self.output / rel, payload)  # as in link(): a damaged file is rewritten
        self.context.setdefault("static_content", {})[rel] = _Linked(rel)
        return "{static}/" + rel

    def _kept_variant(self, name: str, make: Callable[[], bytes | None]) -> bytes | None:
        """The variant ``name`` from ``variants/``, made (and kept) when not there yet, or
        when the kept one is damaged or edited (a warning names it; see
        ``execblog.kernel.store.read_derived``). An empty payload: made before, there was none."""
        kept = self._variants / name if self._variants else None
        if kept and self._trusted:
            found = read_derived(kept, _variant_check(name))
            if found is not None:
                return found or None
        payload = make()
        if kept and (not payload or _plausible(name, payload)):
            keep_derived(kept, payload or b"")  # a read-only cache: made again next time
        return payload

    def prepare(self, result: FenceResult) -> None:
        """Start making the derived files of a fresh result's figures (dark renderings) on
        background threads, as soon as its session ends: while other sessions still run,
        instead of one after another when the pages are rendered. :meth:`variant` waits
        for them. Only for results that ran: a cached one's variants are kept already."""
        if self._variants is None or result.status == CACHED:
            return
        for output in result.outputs:
            found = figure_file(output)
            try:
                wanted = found and dark_rendering(*found, self.settings)
            except SettingsError:
                return  # said, with its location, when the page is rendered
            if not wanted:
                continue
            name = f"{sha256(found[0])[:20]}.{wanted[0]}"
            with self._lock:
                if name in self._early or (self._trusted and
                                           _size(self._variants / name) is not None):
                    continue  # (a kept one is checked when it is read)
                if self._threads is None:
                    self._threads = ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                                       thread_name_prefix="fences-derive")
                self._early[name] = self._threads.submit(self._kept_variant, name, wanted[1])

    def close(self) -> None:
        """Let the background threads of :meth:`prepare` end (what they made is kept)."""
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None
        self._early.clear()

    def markdown(self, text: str) -> str:
        """Markdown -> HTML as the site renders posts (math included)."""
        if self._md is None:
            self._md = site_markdown(self.context.get("MARKDOWN"))
            self._md.treeprocessors.register(self._ids, "fence_ids", 4)  # after toc (5)
        self._md.reset()
        return self._md.convert(text)

    def _page_ids(self, fence: Fence) -> set[str]:
        """The ids in use on the fence's page: the post's own, then those of its fences'
        outputs as they are rendered."""
        taken = self._taken.get(fence.path)
        if taken is None:
            from .collect import post_ids  # imports Pelican: only where posts are read

            taken = self._taken[fence.path] = set(post_ids(fence.path))
        return taken

    def fence_html(self, fence: Fence, result: FenceResult) -> str:
        options = fence.options
        kind = self.kinds.get(fence.kind)
        failed = result.status in FAILURES or result.status == SKIPPED
        if options.include is False and not failed:
            return ""  # Quarto's include: false: it ran, nothing shows (errors still do)
        if options.output == "inline":
            return xml_safe(self._inline(fence, result, failed))
        place = options.source or "above"
        console = place == "console" and not failed
        source = ""
        if options.echo and fence.code.strip():
            if console:
                source = self._console(fence, kind, result)
            else:
                source = self._source(fence, kind, result.line if failed else None)
            if options.fold:
                shown = " open" if options.fold == "show" else ""  # Quarto's code-fold: show
                source = (f'<details class="fence-fold"{shown}><summary>Code</summary>'
                          f"{source}</details>")
        outputs: list[str] = []
        if options.output or failed:
            ctx = HostRenderContext(fence=fence, result=result, link=self.link,
                                    markdown=self.markdown, variant=self.variant)
            shown = [o for o in result.outputs if options.output or o.mime == ERROR]
            if source and console:
                shown = [o for o in shown if not _printed(o)]  # in the console block
            taken = self._page_ids(fence)
            if options.id:
                taken.add(options.id)  # the fence's own anchor
            self._ids.plan(options.idprefix or "", taken)
            try:
                outputs = self._outputs(self._figures(shown, options), ctx,
                                        mode=options.output)
            finally:
                self._ids.plan("", None)
            if any(p.startswith(BOX) for p in outputs):
                outputs.append(_backend_label(result.backend))
            _log_cut(fence, shown)
        parts = _arrange(source, outputs, place, options.tabs or "")
        anchor = f' id="{escape(options.id)}"' if options.id else ""
        status = f" fence-{result.status}" if failed else ""
        return xml_safe(
            f'<div class="fence fence-{escape(fence.kind)}{status}"{anchor}>{"".join(parts)}</div>'
        )

    def _inline(self, fence: Fence, result: FenceResult, failed: bool) -> str:
        """Quarto's inline code: its value (a string as it is, Markdown as Markdown) or what
        it printed, within the sentence; a failed one shows its code, marked."""
        if failed:
            return (f'<code class="fence-inline fence-failed" title="{escape(result.message)}">'
                    f"{escape(fence.code)}</code>")
        shown = []
        for output in result.outputs:
            if output.mime == "text/markdown":
                html = self.markdown(str(output.data)).strip()
                shown.append(html.removeprefix("<p>").removesuffix("</p>"))
            elif output.mime == "text/plain" or _printed(output):
                shown.append(escape(_plain_value(terminal_text(str(output.data)))))
        return f'<span class="fence-inline">{"".join(shown)}</span>'

    def _outputs(self, shown: list[Output], ctx: RenderContext, mode: Any) -> list[str]:
        """The outputs' HTML: runs of outputs boxed in ``fence-outputs``, except what
        ``output: asis`` puts into the post itself (stdout and Markdown values, rendered as
        Markdown, unboxed) and ``output: html`` (stdout as HTML, as it is). With ``result``
        printed text is a code block of that language. Sub-figures are gathered into one
        ``<figure>`` where the first of them was."""
        parts: list[str] = []
        run: list[str | list[str]] = []  # the current box; a list stands for the sub-figures
        subfigures: list[str] | None = None
        language = ctx.fence.options.result
        for output in shown:
            if language and _printed(output) and not output.meta.get("truncated"):
                text = terminal_text(str(output.data)).rstrip("\n")
                run.append(f'<div class="fence-result">'
                           f'{self._kept_highlight(language, [], text)}</div>')
            elif mode in ("asis", "html") and _as_markdown(output):
                parts += _box(run, ctx.fence.options)
                run = []
                if mode == "html" and output.mime == STREAM:
                    parts.append(str(output.data))
                else:
                    parts.append(self.markdown(terminal_text(str(output.data))))
            elif "subfigure" in output.meta:
                if subfigures is None:
                    subfigures = []
                    run.append(subfigures)
                subfigures.append(self._output(output, ctx))
            else:
                run.append(self._output(output, ctx))
        return parts + _box(run, ctx.fence.options)

    @staticmethod
    def _figures(shown: list[Output], options: FenceOptions) -> list[Output]:
        """Mark the figures of a fence as sub-figures ``a``, ``b``... (copies; cached
        outputs are left alone) when there are several and a caption or ``layout-ncol``
        says they belong together. One figure, or several with neither, stay as they are."""
        figures = [i for i, o in enumerate(shown) if is_figure(o)]
        subcaps = getattr(options, "fig_subcap", ())  # kinds that draw figures take it
        if len(figures) < 2 or not (options.caption or subcaps or _columns(options) > 1):
            return shown
        marked = list(shown)
        for n, i in enumerate(figures):
            meta = {**shown[i].meta, "subfigure": subfigure_letter(n)}
            if subcaps:  # Quarto's fig-subcap: "(a) its caption" under each
                text = subcaps[n] if isinstance(subcaps, tuple) and n < len(subcaps) else ""
                meta["subcaption"] = f"({subfigure_letter(n)}) {text}".strip()
            marked[i] = replace(shown[i], meta=meta)
        return marked

    def _source(self, fence: Fence, kind: FenceKind | None, failing: int | None = None) -> str:
        """The fence's highlighted code. A failed fence's code shows the post's line numbers
        and its failing line (``failing``, a post line) marked, as its traceback cites them."""
        language = kind.language if kind else fence.kind
        syntax = fence.options.syntax or language
        lines = _line_numbers(fence.options.hl_lines)
        if failing is not None and fence.code_line:
            code = self._failed_source(syntax, fence, failing)
        elif fence.options.echo == "fenced":  # Quarto's echo: fenced
            shown = f"```{{{language}}}\n{fence.code.strip(chr(10))}\n```"
            code = self._kept_highlight("markdown", [], shown)
        else:
            code = self._kept_highlight(syntax, lines, mdexec.shown(syntax, fence.code))
        code = code.replace("<pre>", f'<pre{REGION.format("Code")}>', 1)
        return f'<div class="fence-source">{_title(fence)}{code}</div>'

    def _console(self, fence: Fence, kind: FenceKind | None, result: FenceResult) -> str:
        """markdown-exec's ``source="console"``: the source at its prompts (``>>> ``, ``$ ``;
        a transcript as written), then what it printed, in one code block (highlighted as
        ``result``, else as a session of its language)."""
        language = kind.language if kind else fence.kind
        syntax = fence.options.syntax or language
        printed = "".join(terminal_text(str(o.data)) for o in result.outputs if _printed(o))
        syntax, typed = mdexec.transcript(syntax, fence.code)
        text = typed + "\n" + printed.rstrip("\n")
        code = self._kept_highlight(fence.options.result or syntax, [], text)
        code = code.replace("<pre>", f'<pre{REGION.format("Code")}>', 1)
        return f'<div class="fence-source fence-console">{_title(fence)}{code}</div>'

    def _failed_source(self, language: str, fence: Fence, failing: int) -> str:
        """Pygments' HTML with inline post line numbers and the failing line marked
        (``<span class="hll">``); not kept (a failed fence is shown rarely and built anew)."""
        shown = failing - fence.code_line + 1
        count = fence.code.count("\n") + 1
        formatter = LeanHtmlFormatter(cssclass="highlight", linenos="inline",
                                  # a notebook's cell counts from its own line 1
                                  linenostart=own_line(fence.path, fence.code_line)
                                  or fence.code_line,
                                  hl_lines=[shown] if 1 <= shown <= count else [])
        return highlight(fence.code, _lexer(language), formatter)

    def _kept_highlight(self, language: str, lines: list[int], code: str) -> str:
        """Pygments' HTML for ``code``, kept in the fence cache's ``highlight/`` folder by a
        digest of everything it depends on: a warm build reads it instead of highlighting
        every fence again (the largest part of rendering a cached fence).

        It goes into the page as HTML, so a kept file is used only when it is sound: its
        checksum (first line, over its name and its HTML; the name is the digest of the
        inputs, so the file is tied to this code) matches, and, since a checksum can be
        recomputed by whoever edits the file on purpose, its HTML is nothing but Pygments'
        markup (``<span class="...">`` tokens, balanced, in ``<div class="highlight"><pre>``)
        around exactly this code, escaped (:func:`highlighted_code_matches`). Anything else
        is a warning naming the file, and the code is highlighted again (and kept)."""
        kept = None
        if self._cache is not None:
            digest = sha256(f"{HIGHLIGHT_FORMAT}|{PYGMENTS_VERSION}|{language}|{lines}|{code}"
                            .encode("utf-8", "surrogatepass"))
            kept = self._cache / HIGHLIGHT_DIR / f"{digest[:32]}.html"
            if self._trusted:
                found = read_derived(kept, lambda data: _check_highlight(data, code))
                if found is not None:
                    return found.decode("utf-8", "surrogatepass")
        lexer = _lexer(language)
        formatter = self._formatter
        if lines:  # Pygments' own hl_lines: <span class="hll">, as codehilite gives plain fences
            formatter = LeanHtmlFormatter(cssclass="highlight", hl_lines=lines)
        html = highlight(code, lexer, formatter)
        # Kept only when a later build's check will accept it (Pygments' own quirks aside,
        # it does); a read-only cache: highlighted again next time.
        if kept is not None and highlighted_code_matches(html, code):
            keep_derived(kept, html.encode("utf-8", "surrogatepass"))
        return html

    def _output(self, output: Output, ctx: RenderContext) -> str:
        if output.mime in TERMINAL and isinstance(output.data, str):
            output = replace(output, data=terminal_text(output.data))
        html = self.pm.hook.fences_render_output(output=output, context=ctx,
                                                 settings=self.settings)
        if html is None:  # no renderer: the escaped repr
            return (f'<pre class="fence-text"{REGION.format("Output")}>'
                    f"{escape(repr(output.data)[:2000])}</pre>")
        if output.mime in TERMINAL:  # escaped text: its only <pre> is the renderer's own
            html = TEXT_PRE.sub(_text_region, html, count=1)
        return html


_HL_OPEN = '<div class="highlight"><pre>'
_HL_CLOSE = "</pre></div>\n"
# The only tags Pygments' HtmlFormatter writes inside the <pre> with our options: token
# spans (class names are Pygments' short token names; "hll" for hl_lines) and the empty
# span it starts with.
_HL_TAG = re.compile(r'<span(?: class="[A-Za-z0-9_ -]*")?>|</span>')


def highlighted_code_matches(html: str, code: str) -> bool:
    """Whether ``html`` is what Pygments' HtmlFormatter writes for ``code``: its only
    markup ``<span>`` tags with plain class names, balanced, inside ``<div
    class="highlight"><pre>``, and its text, unescaped, exactly the code (as Pygments takes
    it: line ends made ``\\n``, leading and trailing newlines dropped). Colours may
    differ; nothing can be added, removed or changed in what the page shows as code, and no
    other element or attribute gets into the page."""
    if not (html.startswith(_HL_OPEN) and html.endswith(_HL_CLOSE)):
        return False
    inner = html[len(_HL_OPEN):-len(_HL_CLOSE)]
    depth, text, pos = 0, [], 0
    for tag in _HL_TAG.finditer(inner):
        text.append(inner[pos:tag.start()])
        pos = tag.end()
        depth += -1 if tag[0] == "</span>" else 1
        if depth < 0:
            return False
    text.append(inner[pos:])
    shown = "".join(text)
    if depth or "<" in shown or ">" in shown:
        return False
    return _as_pygments_reads(unescape(shown)) == _as_pygments_reads(code.lstrip("\ufeff"))


def _as_pygments_reads(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")


def _check_highlight(data: bytes, code: str) -> None:
    """A kept highlighted source's content check (``read_derived``): ValueError unless it
    is Pygments' HTML for ``code``."""
    if not highlighted_code_matches(data.decode("utf-8", "surrogatepass"), code):
        raise ValueError("not the highlighted code of this fence: edited")


def _plausible(name: str, data: bytes) -> bool:
    """Whether ``data`` looks like the dark rendering ``name`` (``darkfigs.plausible_variant``;
    a variant of another kind than a dark figure is not checked)."""
    from .darkfigs import SUFFIX, plausible_variant

    stem, _, ext = name.rpartition(".")
    return not stem.endswith(f".{SUFFIX}") or plausible_variant(data, ext)


def _variant_check(name: str) -> Callable[[bytes], None]:
    """What a kept variant must look like besides its checksum."""

    def check(data: bytes) -> None:
        if data and not _plausible(name, data):
            raise ValueError("not a dark rendering of a figure")

    return check


def _size(path: Path) -> int | None:
    """A file's size; None when there is none."""
    try:
        return path.stat().st_size
    except OSError:
        return None


def _text_region(match: re.Match[str]) -> str:
    """``<pre class="fence-text">`` as a named, focusable scrolling region."""
    css = match[1]
    name = ("Traceback" if "fence-traceback" in css
            else "Error output" if "fence-stderr" in css else "Output")
    return f'<pre class="{css}"{REGION.format(name)}>'


def site_markdown(config: dict[str, Any] | None) -> markdown.Markdown:
    """A Markdown converter with the site's ``MARKDOWN`` settings, without ``meta`` (output
    that starts with ``Key: value`` is text, not metadata) and without the fence collector
    (fences in output never run). Without settings: Python-Markdown's ``extra``."""
    from .collect import FenceExtension  # imports Pelican: only where settings exist

    if not config:
        return markdown.Markdown(extensions=["extra"], output_format="html")
    meta = {"meta", "markdown.extensions.meta"}
    kept = {k: v for k, v in config.items() if k not in ("extensions", "extension_configs")}
    kept["extensions"] = [e for e in config.get("extensions") or []
                          if e not in meta and not isinstance(e, FenceExtension)]
    kept["extension_configs"] = {k: v for k, v in (config.get("extension_configs") or {}).items()
                                 if k not in meta}
    md = markdown.Markdown(**kept)
    if "meta" in md.preprocessors:
        md.preprocessors.deregister("meta")
    return md


class _FenceIds(Treeprocessor):
    """Gives the ids of the elements a fence's Markdown makes a prefix, and a suffix where
    the page has the id already; links to them follow (see the module's doc)."""

    def __init__(self) -> None:
        super().__init__()
        self.prefix = ""
        self.taken: set[str] | None = None  # None: Markdown outside a fence, left alone

    def plan(self, prefix: str, taken: set[str] | None) -> None:
        self.prefix, self.taken = prefix, taken

    def run(self, root: Element) -> None:
        if self.taken is None:
            return
        renamed: dict[str, str] = {}
        for element in root.iter():
            old = element.get("id")
            if old is None:
                continue
            new = wanted = self.prefix + old
            count = 0
            while new in self.taken:
                count += 1
                new = f"{wanted}_{count}"
            self.taken.add(new)
            renamed.setdefault(old, new)
            element.set("id", new)
        for link in root.iter("a"):
            href = link.get("href") or ""
            if href.startswith("#") and href[1:] in renamed:
                link.set("href", "#" + renamed[href[1:]])


def _arrange(source: str, outputs: list[str], place: str, tabs: str) -> list[str]:
    """The source and the outputs in the order and the frame ``source`` (the option) asks."""
    if not source:
        return outputs
    if place == "below":
        return [*outputs, source]
    if place in ("block", "material-block"):
        return [source, f'<div class="fence-result-block">{"".join(outputs)}</div>']
    if place in ("tabbed-left", "tabbed-right"):
        titles = mdexec.tab_titles(tabs)
        panes = [(titles[0], source), (titles[1], "".join(outputs))]
        if place == "tabbed-right":
            panes.reverse()
        return [mdexec.tab_start(panes[0][0], True), panes[0][1],
                mdexec.tab_start(panes[1][0], False), panes[1][1], mdexec.TABS_END]
    return [source, *outputs]


def _plain_value(text: str) -> str:
    """A value's text as Quarto shows it inline: a string without its quotes."""
    text = text.strip("\n")
    if text[:1] in ("'", '"'):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        return value if isinstance(value, str) else text
    return text


def _title(fence: Fence) -> str:
    title = fence.options.title
    return f'<p class="fence-title">{escape(title)}</p>' if title else ""


def _printed(output: Output) -> bool:
    """What the fence printed (stdout), as markdown-exec takes it."""
    return output.mime == STREAM and output.meta.get("name", "stdout") == "stdout"


def _log_cut(fence: Fence, shown: list[Output]) -> None:
    """A located warning for output that ``output: asis``/``html`` would have put into the
    page but that was cut at the output bound, so is shown as escaped text."""
    mode = fence.options.output
    if mode not in ("asis", "html"):
        return
    for output in shown:
        mime = output.meta.get("truncated_from") or output.mime
        if output.meta.get("truncated") and (mime in ("text/markdown", "text/html")
                                             or _printed(output)):
            emit(fence.log_path, fence.line, "warning",
                 f"output: {mode} not applied: {cut_note(output)}; it is shown as escaped "
                 "text (print less, or write it to a file and link it)")


def _as_markdown(output: Output) -> bool:
    """Whether ``output: asis`` renders this output as Markdown in the post: what the fence
    printed to stdout and Markdown values. A cut one is shown boxed (cut markup could
    break the page), with its notice."""
    if output.meta.get("truncated"):
        return False
    if output.mime == STREAM:
        return output.meta.get("name", "stdout") == "stdout"
    return output.mime == "text/markdown"


def _columns(options: FenceOptions) -> int:
    try:
        return min(max(int(options.layout_ncol or 1), 1), 6)
    except (TypeError, ValueError):
        return 1


def _lexer(language: str) -> Any:
    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return get_lexer_by_name("text")


def _line_numbers(value: Any) -> list[int]:
    """``hl_lines`` as Pygments takes it (1-based lines of the shown code)."""
    if not value:
        return []
    if isinstance(value, str):
        value = re.split(r"[\s,]+", value.strip())
    try:
        return sorted({int(v) for v in value if int(v) > 0})
    except (TypeError, ValueError):
        return []


def _box(run: list[str | list[str]], options: FenceOptions) -> list[str]:
    html = "".join(_figure_group(p, options) if isinstance(p, list) else p for p in run)
    return [f"{BOX}{html}</div>"] if html else []


def _figure_group(subfigures: list[str], options: FenceOptions) -> str:
    """One ``<figure>`` holding the sub-figures (in ``layout-ncol`` columns) and the fence's
    caption once, under them."""
    caption = options.caption
    figcaption = f'<figcaption class="fence-caption">{escape(caption)}</figcaption>' if (
        caption) else ""
    return (f'<figure class="fence-figure fence-subfigures fence-ncol-{_columns(options)}">'
            f'{"".join(subfigures)}{figcaption}</figure>')


def _backend_label(backend: dict[str, Any] | None) -> str:
    if not backend:
        return ""
    versions = ", ".join(f"{k} {v}" for k, v in sorted((backend.get("versions") or {}).items()))
    title = f"{backend.get('device', '')}; {versions}".strip("; ")
    return (
        f'<span class="fence-backend" data-backend="{escape(str(backend.get("name")))}" '
        f'title="{escape(title)}">{escape(str(backend.get("label")))}</span>'
    )
