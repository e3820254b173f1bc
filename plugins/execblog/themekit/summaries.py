"""Short summaries for cards and plain text for <meta name="description">.

``card_summary``: the author's ``Summary:`` whole, else the first sentence of the first
paragraph, math kept as it is (so it still renders) and links unwrapped (a card is one link).
``meta_description``: the same text with no markup and no TeX: math becomes readable
Unicode text (``$\\omega_n^{k}$`` -> ``ωₙᵏ``), never ``$`` or a backslash.
"""

from __future__ import annotations

import re
from functools import lru_cache

import lxml.html
from lxml import etree
from markupsafe import Markup

from execblog.kernel.xmlsafe import strip_illegal

# Set on each content object when it is read (see themekit.register): plugins that rewrite
# the summary later (xrefs) store it in metadata["summary"] too, so the metadata alone
# cannot tell an author's Summary from the first paragraph.
AUTHORED = "themekit_summary_is_authored"

_PARSER = lxml.html.HTMLParser(huge_tree=True)
_MATH_CLASSES = ("math", "math-tex")
# Subtrees whose text never holds a sentence end: math, code and scripts.
_ATOMIC = ("math", "code", "kbd", "samp", "script", "style", "svg", "template")
_PLACEHOLDER = "\ufffc"  # one character standing for an atomic element in the flat text
_ABBREVIATIONS = frozenset(
    "e.g i.e cf vs fig figs eq eqs sec secs no nos dr mr mrs ms prof al approx resp ch".split()
)
# A sentence ends at . ! or ? (closing quotes/brackets may follow) before whitespace and a
# capital, a digit, an opening quote/bracket or an element such as math.
_SENTENCE_END = re.compile(
    r"[.!?][\"'\u2019\u201d)\]]*(?=\s+[\"'\u2018\u201c(\[]?[A-Z0-9\u00c0-\u024f" + _PLACEHOLDER
    + r"])"
)
_WORD_BEFORE = re.compile(r"(\S+)$")


def _fragment(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(strip_illegal(html), create_parent="div",
                                         parser=_PARSER)


def _inner_html(root: lxml.html.HtmlElement) -> str:
    parts = [root.text or ""] if root.text else []
    parts += [lxml.html.tostring(child, encoding="unicode") for child in root]
    return "".join(parts)


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _is_atomic(el: lxml.html.HtmlElement) -> bool:
    classes = (el.get("class") or "").split()
    return _local(el.tag) in _ATOMIC or any(c in classes for c in _MATH_CLASSES)


def _slots(node: lxml.html.HtmlElement, out: list) -> None:
    """(element, "text"|"tail", string) in document order; atomic subtrees are one slot."""
    out.append((node, "text", node.text or ""))
    for child in node:
        if not isinstance(child.tag, str):  # comment or processing instruction
            out.append((child, "tail", child.tail or ""))
            continue
        if _is_atomic(child):
            out.append((child, "atom", _PLACEHOLDER))
        else:
            _slots(child, out)
        out.append((child, "tail", child.tail or ""))


def _is_abbreviation(flat: str, end: int) -> bool:
    """True when the '.' at flat[end] closes an abbreviation or an initial ("J.")."""
    if flat[end] != ".":
        return False
    match = _WORD_BEFORE.search(flat[:end])
    if not match:
        return False
    word = match.group(1).lstrip("(\"'\u201c\u2018")
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def _cut_after(node: lxml.html.HtmlElement, root: lxml.html.HtmlElement) -> None:
    """Remove everything that follows node (its tail excepted) inside root."""
    while node is not root:
        parent = node.getparent()
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        if parent is not root:
            parent.tail = None
        node = parent


def first_sentence_of(block: lxml.html.HtmlElement) -> None:
    """Truncate block, in place, after its first sentence (no-op when there is one)."""
    slots: list = []
    _slots(block, slots)
    flat = "".join(s for _, _, s in slots)
    end = None
    for match in _SENTENCE_END.finditer(flat):
        if not _is_abbreviation(flat, match.start()):
            end = match.end()
            break
    if end is None:
        return
    pos = 0
    for el, kind, text in slots:
        if pos + len(text) >= end:
            keep = text[: end - pos]
            if kind == "text":
                el.text = keep
                for child in list(el):
                    el.remove(child)
                if el is not block:
                    el.tail = None
                    _cut_after(el, block)
            else:  # a tail (an atom never holds the sentence end)
                el.tail = keep
                _cut_after(el, block)
            return
        pos += len(text)


@lru_cache(maxsize=2048)
def first_sentence(html: str | None) -> str:
    """The first block of an HTML fragment, cut after its first sentence."""
    if not html or not html.strip():
        return ""
    root = _fragment(html)
    blocks = [child for child in root if isinstance(child.tag, str)]
    if not blocks:  # bare text: treat the fragment as the paragraph
        first_sentence_of(root)
        return _inner_html(root)
    first = blocks[0]
    for other in list(root)[list(root).index(first) + 1:]:
        root.remove(other)
    first.tail = None
    root.text = None
    if first.tag in ("p", "div", "blockquote", "li"):
        first_sentence_of(first)
    return _inner_html(root)


def _unlink(html: str) -> str:
    if "<a" not in html:
        return html
    root = _fragment(html)
    for anchor in list(root.iter("a")):
        anchor.drop_tag()
    return _inner_html(root)


@lru_cache(maxsize=2048)
def _card_html(summary: str, authored: bool) -> str:
    return _unlink(summary if authored else first_sentence(summary))


def card_summary(content: object) -> Markup:
    """The card text of an article or page: its Summary, else its first sentence."""
    summary = str(getattr(content, "summary", "") or "")
    return Markup(_card_html(summary, bool(getattr(content, AUTHORED, False))))


# ---------- TeX and MathML as plain text ----------

_SYMBOLS = {
    # Greek
    **{name: chr(code) for name, code in (
        ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4),
        ("epsilon", 0x3F5), ("varepsilon", 0x3B5), ("zeta", 0x3B6), ("eta", 0x3B7),
        ("theta", 0x3B8), ("vartheta", 0x3D1), ("iota", 0x3B9), ("kappa", 0x3BA),
        ("lambda", 0x3BB), ("mu", 0x3BC), ("nu", 0x3BD), ("xi", 0x3BE), ("pi", 0x3C0),
        ("rho", 0x3C1), ("sigma", 0x3C3), ("tau", 0x3C4), ("upsilon", 0x3C5),
        ("phi", 0x3D5), ("varphi", 0x3C6), ("chi", 0x3C7), ("psi", 0x3C8), ("omega", 0x3C9),
        ("Gamma", 0x393), ("Delta", 0x394), ("Theta", 0x398), ("Lambda", 0x39B),
        ("Xi", 0x39E), ("Pi", 0x3A0), ("Sigma", 0x3A3), ("Phi", 0x3A6), ("Psi", 0x3A8),
        ("Omega", 0x3A9),
    )},
    "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "le": "≤", "leq": "≤",
    "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "sim": "∼", "simeq": "≃",
    "equiv": "≡", "propto": "∝", "ll": "≪", "gg": "≫", "to": "→", "rightarrow": "→",
    "leftarrow": "←", "gets": "←", "Rightarrow": "⇒", "Leftarrow": "⇐", "iff": "⇔",
    "implies": "⇒", "mapsto": "↦", "infty": "∞", "sum": "∑", "prod": "∏", "int": "∫",
    "partial": "∂", "nabla": "∇", "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆",
    "cup": "∪", "cap": "∩", "forall": "∀", "exists": "∃", "emptyset": "∅", "neg": "¬",
    "land": "∧", "lor": "∨", "oplus": "⊕", "otimes": "⊗", "circ": "∘", "ast": "∗",
    "star": "⋆", "dots": "…", "ldots": "…", "cdots": "⋯", "vdots": "⋮",
    "top": "ᵀ", "intercal": "ᵀ", "dagger": "†", "prime": "′", "ell": "ℓ", "hbar": "ħ",
    "lVert": "‖", "rVert": "‖", "Vert": "‖", "|": "‖", "lvert": "|", "rvert": "|",
    "vert": "|", "mid": "|", "langle": "⟨", "rangle": "⟩", "lfloor": "⌊", "rfloor": "⌋",
    "lceil": "⌈", "rceil": "⌉", "{": "{", "}": "}", "%": "%", "&": "&", "#": "#", "_": "_",
    "$": "", ",": " ", ";": " ", ":": " ", "!": "", " ": " ", "quad": " ", "qquad": " ",
    "\\": " ", "colon": ":", "lbrace": "{", "rbrace": "}", "backslash": "",
}
# Binary operators and relations: spaced, whatever the source's spacing.
_SPACED = frozenset(
    "cdot times div pm mp le leq ge geq ne neq approx sim simeq equiv propto ll gg to "
    "rightarrow leftarrow gets Rightarrow Leftarrow iff implies mapsto in notin subset "
    "subseteq cup cap land lor oplus otimes mid".split()
)
_FUNCTIONS = frozenset(
    "log ln lg exp sin cos tan sinh cosh tanh arg max min sup inf det dim ker lim deg gcd "
    "Pr tr rank diag sign".split()
)
# Commands that only change the look of their argument: keep the argument.
_STYLES = frozenset(
    "mathrm mathbf mathit mathsf mathtt mathcal mathscr mathfrak boldsymbol bm text textrm "
    "textbf textit texttt mbox operatorname hat bar overline underline tilde vec dot ddot "
    "widehat widetilde displaystyle textstyle scriptstyle mathop mathbin mathrel".split()
)
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ"}
# Commands (and sizes) that print nothing; \label and friends eat their argument.
_SILENT = frozenset(
    "left right big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr middle "
    "limits nolimits nonumber notag displaystyle".split()
)
_EAT_ARGUMENT = frozenset("label tag eqref ref".split())
_SUPERSCRIPT = dict(zip("0123456789+-=()nijkT−ᵀ", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱʲᵏᵀ⁻ᵀ", strict=True))
_SUBSCRIPT = dict(zip("0123456789+-=()aehijklmnoprstuvx−", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₋",
                      strict=True))
_TOKEN = re.compile(r"\\([A-Za-z]+)\*?|\\(.)|(\s+)|(.)", re.S)


def _tokens(tex: str) -> list[str]:
    out = []
    for match in _TOKEN.finditer(tex):
        name, symbol, space, char = match.groups()
        if name is not None:
            out.append("\\" + name)
        elif symbol is not None:
            out.append("\\" + symbol)
        elif space is not None:
            out.append(" ")
        else:
            out.append(char)
    return out


class _TexText:
    """A tiny recursive reader of TeX tokens that writes readable Unicode text."""

    def __init__(self, tex: str) -> None:
        self.tokens = _tokens(tex)
        self.i = 0

    def _group(self) -> str:
        """The next argument: a {group} or one token, as text."""
        while self.i < len(self.tokens) and self.tokens[self.i] == " ":
            self.i += 1
        if self.i >= len(self.tokens):
            return ""
        if self.tokens[self.i] == "{":
            self.i += 1
            return self._sequence(until="}")
        return self._sequence(single=True)

    def _script(self, table: dict[str, str], mark: str) -> str:
        body = self._group().strip()
        if body and all(c in table for c in body):
            return "".join(table[c] for c in body)
        if body == "ᵀ" or not body:
            return body
        return f"{mark}({body})" if len(body) > 1 else mark + body

    def _sequence(self, until: str | None = None, single: bool = False) -> str:
        out: list[str] = []
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            self.i += 1
            if until is not None and token == until:
                break
            if token == "{":
                out.append(self._sequence(until="}"))
            elif token == "}":
                pass
            elif token == "^":
                out.append(self._script(_SUPERSCRIPT, "^"))
            elif token == "_":
                out.append(self._script(_SUBSCRIPT, "_"))
            elif token in ("~", "&"):
                out.append(" ")
            elif token.startswith("\\"):
                out.append(self._command(token[1:]))
            else:
                out.append(token)
            if single:
                break
        return "".join(out)

    def _command(self, name: str) -> str:
        if name in ("frac", "tfrac", "dfrac", "cfrac"):
            num, den = self._group().strip(), self._group().strip()
            wrap = (lambda s: f"({s})" if re.search(r"[\s+\-−/]", s) else s)  # noqa: E731
            return f"{wrap(num)}/{wrap(den)}"
        if name == "sqrt":
            body = self._group().strip()
            return f"√({body})" if len(body) > 1 else f"√{body}"
        if name == "mathbb":
            body = self._group().strip()
            return "".join(_BLACKBOARD.get(c, c) for c in body)
        if name in ("begin", "end"):
            self._group()
            return " "
        if name in _EAT_ARGUMENT:
            self._group()
            return ""
        if name in _STYLES:
            return self._group()
        if name in _SILENT:
            return ""
        if name in _FUNCTIONS:
            return name + " "
        if name in _SPACED:
            return f" {_SYMBOLS[name]} "
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        return name  # an unknown command: its name reads better than nothing


@lru_cache(maxsize=4096)
def tex_to_text(tex: str) -> str:
    """Readable plain text for a TeX formula: Unicode symbols, no backslash, no dollar."""
    text = _TexText(tex)._sequence()
    text = text.replace("\\", "").replace("$", "")
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([_^])", r"\1", text)  # "min _X" -> "min_X"
    return re.sub(r"\s+([,.;:)])", r"\1", text)


_DELIMITED = re.compile(r"^\s*(?:\\\((.*)\\\)|\\\[(.*)\\\]|\$\$(.*)\$\$|\$(.*)\$)\s*$", re.S)
# $...$ or \(...\) left in plain text (a Description field written with TeX in it).
_INLINE_TEX = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)


def _strip_delimiters(source: str) -> str:
    match = _DELIMITED.match(source)
    return next((g for g in match.groups() if g is not None), "") if match else source


def _mathml_text(el: etree._Element) -> str:
    """Plain text for a MathML element, from its TeX annotation when it has one."""
    tag = _local(el.tag)
    if tag == "math" and el.get("alttext"):
        return tex_to_text(_strip_delimiters(el.get("alttext")))
    for note in el.iter():
        if _local(note.tag) == "annotation" and "tex" in (note.get("encoding") or ""):
            return tex_to_text(_strip_delimiters(note.text or ""))
    kids = [k for k in el if isinstance(k.tag, str)]
    parts = [_mathml_text(k) for k in kids]
    if tag in ("msup", "msub", "msubsup") and len(parts) >= 2:
        base, scripts = parts[0], parts[1:]
        tables = {"msup": [(_SUPERSCRIPT, "^")], "msub": [(_SUBSCRIPT, "_")],
                  "msubsup": [(_SUBSCRIPT, "_"), (_SUPERSCRIPT, "^")]}[tag]
        for text, (table, mark) in zip(scripts, tables, strict=False):
            text = text.strip()
            base += ("".join(table[c] for c in text) if text and all(c in table for c in text)
                     else f"{mark}({text})" if len(text) > 1 else mark + text)
        return base
    if tag == "mfrac" and len(parts) == 2:
        return f"{parts[0]}/{parts[1]}"
    if tag == "msqrt":
        return "√(" + "".join(parts) + ")"
    if tag == "annotation-xml":
        return ""
    if tag in ("semantics",) and parts:
        return parts[0]
    return (el.text or "").strip() + "".join(parts) if not kids else "".join(parts)


def _plain(node: lxml.html.HtmlElement) -> str:
    out: list[str] = []

    def walk(el: lxml.html.HtmlElement) -> None:
        if not isinstance(el.tag, str):
            return
        tag = _local(el.tag)
        classes = (el.get("class") or "").split()
        if tag == "math":
            out.append(_mathml_text(el))
            return
        if tag == "script":
            if (el.get("type") or "").startswith("math/tex"):
                out.append(tex_to_text(el.text or ""))
            return
        if tag in ("style", "svg", "template") or "headerlink" in classes:
            return
        if any(c in classes for c in _MATH_CLASSES):  # MathML made at build time, or TeX
            inner = next((k for k in el.iter() if _local(k.tag) == "math"), None)
            out.append(_mathml_text(inner) if inner is not None
                       else tex_to_text(_strip_delimiters(el.text_content())))
            return
        out.append(el.text or "")
        for child in el:
            walk(child)
            out.append(child.tail or "")

    walk(node)
    return "".join(out)


def plain_text(html: str | None) -> str:
    """An HTML fragment (or plain text) as one line of text, math turned into Unicode."""
    if not html or not html.strip():
        return ""
    text = _plain(_fragment(html))
    text = _INLINE_TEX.sub(lambda m: tex_to_text(next(g for g in m.groups() if g)), text)
    text = text.replace("\\", "")
    return re.sub(r"\s+", " ", text).strip()


def shorten(text: str, limit: int) -> str:
    """text cut at a word boundary to at most limit characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:—–- ")
    return cut + "…"


@lru_cache(maxsize=2048)
def _description(source: str, limit: int) -> str:
    return shorten(plain_text(source), limit)


def meta_description(content: object, limit: int = 160) -> str:
    """<meta name="description"> text for an article or page: no markup, no TeX."""
    metadata = getattr(content, "metadata", {}) or {}
    source = str(metadata.get("description") or "") or str(card_summary(content))
    return _description(source, limit)


def year_span(articles: object, fallback: int | None = None) -> str:
    """The years the posts span, "2024–2026" (or one year); fallback when there are none."""
    years = sorted({a.date.year for a in (articles or ()) if getattr(a, "date", None)})
    if not years:
        if fallback is None:
            import datetime

            fallback = datetime.date.today().year
        return str(fallback)
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"
