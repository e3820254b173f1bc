"""Quarto-style cross-references in one post's HTML: number, caption, link.

Labels (Quarto's prefixes): ``fig-`` on a fence (or ``![..](..){#fig-x}``) with figure(s),
``tbl-`` on a fence with a table or on a Markdown table (``: Caption {#tbl-x}`` after it),
``eq-`` after display math (``$$..$$ {#eq-x}``), ``sec-`` on a heading; and from the fenced
divs of ``execblog.markdown.pandoc``: figure divs (their sub-figures lettered "(a)", referable by
their own labels and as ``@fig-x-1``, as a fence's sub-figures are), table divs, theorem-like
blocks (``thm-``, ``lem-``... each kind counted by itself: ``blocks``) and labelled callouts
(``nte-``, ``tip-``...). References in prose
become links, in Quarto's forms (its ``crossref/refs.lua``): ``@fig-x`` "Figure 1" (``@Fig-x``
too), ``-@fig-x`` and ``[-@fig-x]`` the bare number "1" (an equation's too: "Eqn. (-@eq-x)" reads
"Eqn. (1)"), a bracketed group ``[@fig-a; @fig-b]`` "Figure 1, Figure 2" without its brackets,
and a prefix written in the brackets replaces the type's: ``[Fig. @fig-x]`` "Fig. 1" (the whole
"Fig. 1" is the link; text after the label, ``[@fig-x, left]``, follows the link). Those in code,
pre, math, links, SVG and scripts are left alone. Numbers are per post, in order. An id that
Markdown's toc made from a heading's text ("## fig-like heading") is not a label.

Only the parts that are rewritten change: ``<pre>``, ``<svg>``, ``<math>``, ``<script>``,
``<style>`` and ``<textarea>`` blocks are kept byte for byte (set aside before parsing).
"""

from __future__ import annotations

import difflib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from .blocks import KINDS, letter_subfigures, number_block

PREFIXES = ("fig", "tbl", "eq", "sec", *KINDS)
_TAIL = r"-[A-Za-z0-9_](?:[\w-]*[A-Za-z0-9_])?"
_ANY = "|".join(PREFIXES)
_LABEL = rf"(?:{_ANY}){_TAIL}"
# What a reference may name: a label, or one with its first letter capitalised (``@Fig-x``).
_REF_LABEL = "(?:{}){}".format("|".join(f"[{p[0]}{p[0].upper()}]{p[1:]}" for p in PREFIXES),
                               _TAIL)
# A reference: not after a word character, "@", "." or "-" (so a@fig-x.com is no reference).
_ONE = re.compile(rf"(?<![\w@.+-])(-?)@({_REF_LABEL})")
_INNER = re.compile(rf"(-?)@({_REF_LABEL})")
# A bracketed group (pandoc's citation syntax, as Quarto reads it): items split by ";", each
# ``[prefix ]-?@label[suffix]``, the prefix ending in a space, the suffix starting with "," or
# a space (as execblog.markdown.citations reads them: it leaves every group naming a label to us).
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_ITEM = re.compile(rf"^\s*(?P<prefix>(?:[^@]*?\s)?)(?P<dash>-?)@(?P<label>{_REF_LABEL})"
                   r"(?P<suffix>(?:[,\s][^@]*)?)$", re.S)
# Anything worth parsing a post for.
NEEDS = re.compile(rf"@{_REF_LABEL}|id=\"(?:{_ANY})-|\{{#(?:eq|tbl)-")
# {#eq-x}, or with Pandoc attributes after the label ({#eq-x alt="..."}, as Quarto writes)
_EQ_LABEL = re.compile(r"\s*\{#(eq-[A-Za-z0-9_][\w-]*)(?:\s+(?P<attrs>[^{}]*?))?\s*\}")
_EQ_ALT = re.compile(r"""\balt\s*=\s*(?P<q>["'])(?P<alt>.*)(?P=q)""")
_TBL_LABEL = re.compile(r"\s*\{#(tbl-[A-Za-z0-9_][\w-]*)\s*\}\s*$")
_SUB = re.compile(r"^\s*\(([a-z])\)\s*")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_SKIP_TAGS = {"a", "code", "pre", "kbd", "samp", "script", "style", "textarea", "svg",
              "math", "title"}
_SKIP_CLASSES = {"math", "fence-source", "headerlink"}
_KEEP_BLOCKS = ("pre", "script", "style", "textarea", "svg", "math")


@dataclass
class Target:
    label: str
    text: str  # what a reference says: "Figure 2", "Equation (3)", a heading's text
    number: str = ""  # the bare number ``-@label`` shows ("2", an equation's "3" too)


@dataclass
class Problem:
    label: str  # the label (for lines: searched in the source)
    message: str
    reference: bool = True  # a reference (@label) rather than a label's definition


@dataclass
class Result:
    html: str
    targets: dict[str, Target] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


# -- keeping blocks aside ---------------------------------------------------------------------
def _balanced_end(html: str, tag: str, start: int) -> int:
    """End offset of the element opened at ``start`` (nested same-name tags counted)."""
    opener = re.compile(rf"<(/?){tag}\b[^>]*?(/?)>", re.I)
    depth = 0
    for match in opener.finditer(html, start):
        if match.group(1):
            depth -= 1
        elif not match.group(2):
            depth += 1
        if depth == 0:
            return match.end()
    return len(html)


def set_aside(html: str) -> tuple[str, dict[str, str]]:
    """Replace kept blocks with comment placeholders; return (html, {placeholder: block})."""
    token = secrets.token_hex(4)
    kept: dict[str, str] = {}
    opener = re.compile(rf"<({'|'.join(_KEEP_BLOCKS)})\b", re.I)
    out, pos = [], 0
    while True:
        match = opener.search(html, pos)
        if match is None:
            break
        end = _balanced_end(html, match.group(1).lower(), match.start())
        key = f"xrefs-{token}-{len(kept)}"
        kept[key] = html[match.start():end]
        out.append(html[pos:match.start()])
        out.append(f"<!--{key}-->")
        pos = end
    out.append(html[pos:])
    return "".join(out), kept


def put_back(html: str, kept: dict[str, str]) -> str:
    for key, block in kept.items():
        html = html.replace(f"<!--{key}-->", block, 1)
    return html


# -- helpers ----------------------------------------------------------------------------------
def _classes(tag: Tag) -> list[str]:
    value = tag.get("class") or []
    return value.split() if isinstance(value, str) else list(value)


def _skipped(node: NavigableString) -> bool:
    for parent in node.parents:
        if parent.name in _SKIP_TAGS or _SKIP_CLASSES.intersection(_classes(parent)):
            return True
    return False


def _next_node(node):
    nxt = node.next_sibling
    while isinstance(nxt, NavigableString) and not isinstance(nxt, Comment) and not nxt.strip():
        nxt = nxt.next_sibling
    return nxt


def _number_span(soup: BeautifulSoup, text: str) -> Tag:
    span = soup.new_tag("span", attrs={"class": "xref-number"})
    span.string = text
    return span


def _prefix_caption(soup: BeautifulSoup, caption: Tag, number: str, sub: str = "") -> None:
    """Caption "Figure 2: text" ("Figure 2(a) text" for a sub-figure already lettered)."""
    first = caption.contents[0] if caption.contents else None
    text = caption.get_text().strip()
    if sub:
        lettered = _SUB.match(text)
        if lettered and isinstance(first, NavigableString) and _SUB.match(str(first)):
            first.replace_with(_SUB.sub("", str(first), count=1))
            caption.insert(0, " ")
            caption.insert(0, _number_span(soup, f"{number}({lettered.group(1)})"))
            return
        number = f"{number}({sub})"
    if not text:
        caption.clear()
        caption.append(_number_span(soup, number))
        return
    caption.insert(0, " ")
    caption.insert(0, _number_span(soup, f"{number}:"))


def _own_caption(figure: Tag, name: str) -> Tag | None:
    return next((c for c in figure.find_all(name, recursive=False)), None)


def _top_level(root: Tag, name: str) -> list[Tag]:
    found = root.find_all(name)
    return [t for t in found if not any(p.name == name for p in t.parents if p is not root)
            and t is not root]


# -- passes -----------------------------------------------------------------------------------
def _label_equations(soup: BeautifulSoup) -> None:
    """``<div class="math">..</div> {#eq-x}`` -> ``<div class="xref-equation" id="eq-x">``."""
    for math in soup.find_all("div", class_="math"):
        nxt = _next_node(math)
        label = match = None
        if isinstance(nxt, NavigableString) and not isinstance(nxt, Comment):
            match = _EQ_LABEL.match(str(nxt))
            if match:
                label = match.group(1)
                nxt.replace_with(str(nxt)[match.end():])
        elif isinstance(nxt, Tag) and nxt.name == "p" and nxt.contents:
            first = nxt.contents[0]
            match = _EQ_LABEL.match(str(first)) if isinstance(first, NavigableString) else None
            if match:
                label = match.group(1)
                rest = str(first)[match.end():].lstrip()
                if rest:
                    first.replace_with(rest)
                else:
                    first.extract()
                if not nxt.get_text().strip() and not nxt.find(True):
                    nxt.decompose()
        if label:
            wrapper = soup.new_tag("div", attrs={"class": "xref-equation", "id": label})
            alt = _EQ_ALT.search(match["attrs"] or "") if match else None
            if alt:  # Quarto's alt text: what a screen reader says for the formula
                wrapper["aria-label"] = re.sub(r"\\(.)", r"\1", alt["alt"])
            math.wrap(wrapper)


def _table_captions(soup: BeautifulSoup) -> None:
    """``: Caption {#tbl-x}`` (a lone ``<dd>``) or ``Table: Caption {#tbl-x}`` right after a
    table becomes its ``<caption>`` and the label its id."""
    for table in soup.find_all("table"):
        nxt = _next_node(table)
        if not isinstance(nxt, Tag) or table.find("caption", recursive=False):
            continue
        if nxt.name == "dl":
            children = nxt.find_all(True, recursive=False)
            if len(children) != 1 or children[0].name != "dd":
                continue
            holder = children[0]
            paragraphs = holder.find_all(True, recursive=False)
            if len(paragraphs) == 1 and paragraphs[0].name == "p":
                holder = paragraphs[0]
        elif nxt.name == "p" and nxt.get_text().lstrip().startswith("Table:"):
            holder = nxt
        else:
            continue
        if not _TBL_LABEL.search(holder.get_text()):
            continue  # a definition list, or a caption Quarto would not number
        caption = soup.new_tag("caption")
        for child in list(holder.contents):
            caption.append(child.extract())
        label = _strip_caption_text(caption)
        if label and not table.get("id"):
            table["id"] = label
        nxt.decompose()
        table.insert(0, caption)


def _strip_caption_text(caption: Tag) -> str | None:
    """Drop a leading "Table:" and a trailing ``{#tbl-x}`` from a caption's text; return the
    label."""
    strings = [s for s in caption.descendants if isinstance(s, NavigableString)]
    if strings:
        strings[0].replace_with(re.sub(r"^\s*Table:\s*", "", str(strings[0])))
        strings = [s for s in caption.descendants if isinstance(s, NavigableString)]
    if not strings:
        return None
    label = _TBL_LABEL.search(str(strings[-1]))
    if label is None:
        return None
    strings[-1].replace_with(str(strings[-1])[: label.start()].rstrip())
    return label.group(1)


def _image_figures(soup: BeautifulSoup) -> None:
    """``<p><img id="fig-x" alt="Caption"></p>`` (attr_list) -> a ``<figure>``; an image in
    a link (``[![Caption](a.png){#fig-x}](url)``) too, the link kept around it."""
    for img in soup.find_all("img", id=re.compile(r"^fig-")):
        shown = img.parent if img.parent is not None and img.parent.name == "a" else img
        parent = shown.parent
        if parent is None or parent.name != "p" or parent.get_text().strip() or len(
                parent.find_all(True)) != (2 if shown is not img else 1):
            continue
        figure = soup.new_tag("figure", attrs={"id": img["id"], "class": "xref-figure"})
        del img["id"]
        caption = soup.new_tag("figcaption")
        caption.string = img.get("alt") or ""
        parent.replace_with(figure)
        figure.append(shown)
        figure.append(caption)


def _number(soup: BeautifulSoup, result: Result) -> None:
    counts = dict.fromkeys(PREFIXES, 0)
    elements = soup.find_all(id=True)
    subfigures = _Subfigures({str(e["id"]) for e in elements})
    for element in elements:
        label = str(element["id"])
        prefix = label.split("-", 1)[0]
        if prefix not in counts or "-" not in label or id(element) in subfigures.lettered:
            continue
        if prefix != "sec" and element.name in _HEADINGS and _toc_id(element, label):
            continue  # "## fig-like heading": an id made from the text, not a label
        if label in result.targets:
            result.problems.append(Problem(label, f"duplicate label '{label}': references "
                                           "go to its first use", reference=False))
            continue
        target = None
        if prefix == "fig":
            figures = [element] if element.name == "figure" else _top_level(element, "figure")
            if figures:
                counts["fig"] += 1
                number = f"Figure {counts['fig']}"
                subs = _subfigures(figures)
                for index, figure in enumerate(figures):
                    caption = _own_caption(figure, "figcaption")
                    if caption is None:
                        caption = soup.new_tag("figcaption")
                        figure.append(caption)
                    _prefix_caption(soup, caption, number,
                                    chr(ord("a") + index) if len(figures) > 1 else "")
                target = Target(label, number, str(counts["fig"]))
                if subs:
                    letters = letter_subfigures(soup, subs) if len(figures) == 1 else [
                        chr(ord("a") + i) for i in range(len(subs))]
                    _sub_targets(result, label, counts["fig"], subs, letters, subfigures)
        elif prefix == "tbl":
            tables = [element] if element.name == "table" else _top_level(element, "table")
            if _is_float(element):  # a table div: its caption is the figure's
                counts["tbl"] += 1
                number = f"Table {counts['tbl']}"
                caption = _own_caption(element, "figcaption")
                if caption is None:
                    caption = soup.new_tag("figcaption")
                    element.insert(0, caption)
                _prefix_caption(soup, caption, number)
                target = Target(label, number, str(counts["tbl"]))
            elif tables:
                counts["tbl"] += 1
                number = f"Table {counts['tbl']}"
                table = tables[0]
                caption = _own_caption(table, "caption")
                if caption is None:
                    caption = soup.new_tag("caption")
                    table.insert(0, caption)
                caption["class"] = [*_classes(caption), "xref-caption"]
                _prefix_caption(soup, caption, number)
                target = Target(label, number, str(counts["tbl"]))
        elif prefix == "eq":
            if "xref-equation" in _classes(element):
                counts["eq"] += 1
                number = f"({counts['eq']})"
                span = soup.new_tag("span", attrs={"class": "eq-number"})
                span.string = number
                element.append(span)
                target = Target(label, f"Equation {number}", str(counts["eq"]))
        elif prefix in KINDS:
            if number_block(element, prefix, counts[prefix] + 1):
                counts[prefix] += 1
                target = Target(label, f"{KINDS[prefix]} {counts[prefix]}", str(counts[prefix]))
        elif element.name in _HEADINGS:
            text = "".join(s for s in element.strings if not _skipped_heading(s, element))
            target = Target(label, " ".join(text.split()) or label)
        if target is None:
            result.problems.append(Problem(label, _not_numbered(prefix, label), reference=False))
        else:
            result.targets[label] = target
    for alias, target in subfigures.aliases.items():
        result.targets.setdefault(alias, target)


def _is_float(element: Tag) -> bool:
    """A table div of ``execblog.markdown.pandoc``: ``<figure class="quarto-float">``."""
    return element.name == "figure" and "quarto-float" in _classes(element)


def _subfigures(figures: list[Tag]) -> list[Tag]:
    """The sub-figures of a figure: the figures one figure holds (a figure div's, a fence's
    group), else the figures themselves when a fence drew several."""
    if len(figures) == 1:
        return _top_level(figures[0], "figure")
    return figures


@dataclass
class _Subfigures:
    """What numbering the sub-figures of a post needs besides the targets."""

    written: set[str]  # every id of the page: an alias never takes one of them
    lettered: set[int] = field(default_factory=set)  # sub-figures (numbered with their figure)
    aliases: dict[str, Target] = field(default_factory=dict)  # ``fig-x-1``...


def _sub_targets(result: Result, label: str, number: int, subs: list[Tag], letters: list[str],
                 state: _Subfigures) -> None:
    """Each sub-figure is referable by its own label and as ``label-1``, ``label-2``...
    (Quarto's names for a cell's sub-figures), unless a label of the page is spelled so; it
    gets ``label-N`` as its id when it has none."""
    for index, (figure, letter) in enumerate(zip(subs, letters, strict=True), 1):
        state.lettered.add(id(figure))
        alias = f"{label}-{index}"
        free = alias not in state.written
        own = str(figure.get("id") or "")
        if not own and free:
            figure["id"] = own = alias
        target = Target(own or label, f"Figure {number}({letter})", f"{number}({letter})")
        if own.startswith("fig-") and own not in result.targets:
            result.targets[own] = target
        if free:
            state.aliases.setdefault(alias, target)


def _toc_id(heading: Tag, label: str) -> bool:
    """Whether a heading's id is the one Markdown's toc extension makes from its text (its
    slug, "_1" added to a repeated one), rather than one the author wrote (``{#fig-x}``)."""
    text = "".join(s for s in heading.strings if not _skipped_heading(s, heading))
    base = re.sub(r"_\d+$", "", label)
    return base in (_slug(text, False), _slug(text, True))


def _slug(text: str, keep_unicode: bool) -> str:
    """Python-Markdown's ``toc.slugify`` (and ``slugify_unicode``) with "-"."""
    if not keep_unicode:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _skipped_heading(node: NavigableString, heading: Tag) -> bool:
    for parent in node.parents:
        if parent is heading:
            return False
        if "headerlink" in _classes(parent):
            return True
    return False


def _not_numbered(prefix: str, label: str) -> str:
    if prefix == "sec":
        return f"label '{label}' is not on a heading; references to it are not linked"
    if prefix in KINDS:
        return (f"label '{label}' is not on a {KINDS[prefix].lower()} div "
                f"(::: {{#{label}}} ... :::); it is not numbered")
    what = {"fig": "no figure (does the fence show an image?)", "tbl": "no table",
            "eq": "no display math right before it"}[prefix]
    return f"label '{label}' has {what}; it is not numbered"


@dataclass
class _Ref:
    """One reference as written: ``[prefix ]-?@label[suffix]``."""

    label: str  # as looked up: the first letter in lower case (``@Fig-x`` names fig-x)
    dash: bool = False
    prefix: str = ""
    suffix: str = ""


def _ref(dash: str, label: str, prefix: str = "", suffix: str = "") -> _Ref:
    return _Ref(label[0].lower() + label[1:], bool(dash), prefix.strip(), suffix.rstrip())


def _group(body: str) -> list[_Ref] | None:
    """The references of a bracketed group's text, or None when it is not one (an item
    without exactly one reference)."""
    refs = []
    for item in body.split(";"):
        match = _ITEM.match(item)
        if match is None:
            return None
        refs.append(_ref(match["dash"], match["label"], match["prefix"], match["suffix"]))
    return refs


def _scan(text: str) -> list[tuple[int, int, list[_Ref]]]:
    """(start, end, references) of every reference of one text: a bracketed group as one
    (its brackets are replaced with it), else each ``@label`` by itself."""
    found: list[tuple[int, int, list[_Ref]]] = []

    def singles(start: int, end: int) -> None:
        for match in _ONE.finditer(text, start, end):
            found.append((match.start(), match.end(), [_ref(match[1], match[2])]))

    pos = 0
    for match in _BRACKET.finditer(text):
        if not _INNER.search(match[1]):
            continue
        refs = _group(match[1])
        singles(pos, match.start() if refs else match.end())
        if refs:
            found.append((match.start(), match.end(), refs))
        pos = match.end()
    singles(pos, len(text))
    return found


def _link(soup: BeautifulSoup, target: Target, ref: _Ref) -> Tag:
    """Quarto's reference text: the type's prefix and number ("Figure 1"); only the number
    with ``-@``; the author's prefix instead of the type's when the group has one."""
    link = soup.new_tag("a", attrs={"class": "xref", "href": f"#{target.label}"})
    link.string = shown_text(target, ref)
    return link


def shown_text(target: Target, ref: _Ref) -> str:
    """The text of one reference (the notebook download shows the page's text too)."""
    number = target.number or target.text  # a section has no number: its heading's text
    if ref.prefix:
        return f"{ref.prefix} {number}"
    return number if ref.dash else target.text


def scan_references(text: str) -> list[tuple[int, int, list[_Ref]]]:
    """(start, end, references) of every reference written in ``text`` (see ``_scan``)."""
    return _scan(text)


def _references(soup: BeautifulSoup, result: Result) -> None:
    for node in list(soup.find_all(string=_INNER)):
        if isinstance(node, Comment) or _skipped(node):
            continue
        text, pieces, pos = str(node), [], 0
        for start, end, refs in _scan(text):
            missing = [ref.label for ref in refs if ref.label not in result.targets]
            for label in missing:
                result.problems.append(Problem(label, _unknown(label, result.targets)))
            if missing:
                continue  # the whole reference stays as it was written
            pieces.append(text[pos:start])
            for index, ref in enumerate(refs):
                if index:
                    pieces.append(", ")
                pieces.append(_link(soup, result.targets[ref.label], ref))
                pieces.append(ref.suffix)
            pos = end
        if pieces:
            pieces.append(text[pos:])
            node.replace_with(*[p for p in pieces if not isinstance(p, str) or p])


def _unknown(label: str, targets: dict[str, Target]) -> str:
    close = difflib.get_close_matches(label, list(targets), n=1, cutoff=0.6)
    hint = f"; did you mean @{close[0]}?" if close else ""
    kind = {"fig": "figure", "tbl": "table", "eq": "equation", "sec": "section",
            **{k: v.lower() for k, v in KINDS.items()}}[label.split("-", 1)[0]]
    return f"unknown cross-reference @{label}: no {kind} in this post has that label{hint}"


def process(html: str) -> Result:
    """Number the labelled things of one post's HTML and link its references."""
    if not NEEDS.search(html):
        return Result(html)
    text, kept = set_aside(html)
    soup = BeautifulSoup(text, "html.parser")
    _label_equations(soup)
    _table_captions(soup)
    _image_figures(soup)
    result = Result(html)
    _number(soup, result)
    _references(soup, result)
    result.html = put_back(str(soup), kept)
    return result


# -- where a label is in the Markdown ---------------------------------------------------------
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+).*?\1")


def prose_lines(source: str) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code, inline code spans blanked."""
    lines, fence = [], None
    for number, line in enumerate(source.splitlines(), 1):
        opener = _FENCE.match(line)
        if fence:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = None
            continue
        if opener:
            fence = opener.group(1)
            continue
        lines.append((number, _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)))
    return lines


def reference_lines(source: str, label: str) -> list[int]:
    """Lines of the prose where ``@label`` is written, in order (once per occurrence)."""
    first = f"[{re.escape(label[0])}{re.escape(label[0].upper())}]"  # @fig-x and @Fig-x
    pattern = re.compile(rf"(?<![\w@.+-])-?@{first}{re.escape(label[1:])}"
                         r"(?![\w-]*[A-Za-z0-9_])")
    return [n for n, text in prose_lines(source) for _ in pattern.finditer(text)]


def label_line(source: str, label: str) -> int | None:
    """The first line that names ``label`` as a label (not as a reference)."""
    pattern = re.compile(rf"(?<![@\w-]){re.escape(label)}(?![\w-])")
    for number, line in enumerate(source.splitlines(), 1):
        if pattern.search(line):
            return number
    return None
