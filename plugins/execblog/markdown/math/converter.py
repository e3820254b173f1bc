"""TeX -> MathML with latex2mathml, and the fixes its output needs to render in browsers.

What latex2mathml gets wrong, and what is done about it here:

- ``\\overline`` draws U+2015, a fixed bar: it becomes U+00AF, ``stretchy="true"``, with
  ``accent="true"`` on the ``mover`` (MathML Core reads the accent there, not on the ``mo``);
  the site's math font stretches U+00AF over the whole base (see ``font``). ``\\underline``,
  ``\\widehat`` and ``\\widetilde`` get the accent on ``munder`` / ``mover`` too.
- ``\\mathrm{i}`` gives an italic ``<mi>i</mi>`` (a one-letter ``mi`` is italic): it gets
  ``mathvariant="normal"``, and ``\\mathrm{fl}`` is one upright ``<mi>fl</mi>``.
- ``\\bigl( \\Bigr] \\bigg|``: every sized delimiter is a stretchy, symmetric ``<mo>`` whose
  ``minsize`` = ``maxsize`` (MathML Core ignores the sizes of an operator that does not
  stretch, and ``/`` or ``|`` are not stretchy by default).
- ``\\label{x}``, ``\\tag{T}``, ``\\tag*{T}``, ``\\nonumber``, ``\\notag`` are taken out of the
  TeX (they leaked as text); ``\\eqref{x}`` / ``\\ref{x}`` become a placeholder ``mtext`` that
  ``pages`` fills in with the equation's number (see :class:`Converted`).
- ``aligned`` (unsupported: a bare ``&`` came out) is converted as ``split``; ``gathered``
  and ``gather`` (a line break no browser draws) as a centred ``matrix``; ``align`` and
  ``equation`` are not numbered line by line (as MathJax without ``tags`` does).
- Function names latex2mathml does not know (``\\arg``, ``\\deg``...) are ``\\operatorname``;
  every function name is an ``mi`` (``\\operatorname`` gave an ``mo``, spaced as a binary
  operator) followed by TeX's thin space before an argument (``\\cos\\alpha``, not
  ``cosα``). ``|``, ``\\lVert`` and ``/`` are unspaced (and the bars unstretched),
  ``\\langle`` is an ``mo`` and capital Greek is upright, as in TeX.
- The thin space after a function name goes between the items of a row only, never inside
  ``msub``/``msup`` (``\\log_2 n``, ``\\max_i``, ``\\sin^2`` had three children there:
  invalid MathML, drawn as "log 2 n").
- Anything else it does not know leaks as ``<mi>\\foo</mi>``: that, an exception, output
  that is not XML, or MathML with the wrong number of children in a script, fraction or
  radical (``structure``) is a failure, which the caller shows as ``<code class="math-tex">``.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from latex2mathml.converter import convert
from lxml import etree

from execblog.kernel.store import keep_derived, read_derived

from .structure import ARITY, structure_problems

CONVERTER_VERSION = "2"  # bump when a fix changes the MathML (stored conversions are redone)
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
_M = f"{{{MATHML_NS}}}"
REF_ATTRIBUTE = "data-mathkit-ref"  # on the mtext that stands for an \eqref / \ref

_LABEL = re.compile(r"\\label\s*\{([^{}]*)\}")
_TAG = re.compile(r"\\tag(\*?)\s*\{([^{}]*)\}")
_NONUMBER = re.compile(r"\\(?:nonumber|notag)(?![A-Za-z])")
_REF = re.compile(r"\\(eqref|ref)\s*\{([^{}]*)\}")
_REF_TEXT = "MATHKITREF"
_ENV_RENAMES = {"aligned": "split", "gathered": "matrix", "gather": "matrix",
                "gather*": "matrix", "align": "align*", "equation": "equation*"}
_ENV = re.compile(r"\\(begin|end)\s*\{(aligned|gathered|gather\*?|align|equation)\}")
# Operator names latex2mathml leaves as "\name".
_FUNCTIONS = ("arg", "deg", "det", "dim", "exp", "gcd", "hom", "inf", "ker", "lg", "Pr",
              "sup", "liminf", "limsup", "sec", "csc", "cot", "coth", "sinh", "cosh", "tanh",
              "arcsin", "arccos", "arctan")
_FUNCTION = re.compile(rf"\\({'|'.join(_FUNCTIONS)})(?![A-Za-z])")
# latex2mathml writes a letter that went through \mathrm as a character reference.
_ROMAN = re.compile(r"<mi>&#x0*(4[1-9A-Fa-f]|5[0-9Aa]|6[1-9A-Fa-f]|7[0-9Aa]);</mi>")
# Chromium stretches U+00AF (not U+0305 or U+203E) along the inline axis; the subset font
# maps it to the glyph that has the MATH table's horizontal construction (see font.py).
OVERLINE = "\u00af"
_ACCENTS = ("\u2015", "\u00af", "\u203e")
_WIDE = ("^", "~", "\u02dc")
_LEAKED = re.compile(r"\\[A-Za-z]+")
_FUNCTION_MARK = "data-mathkit-function"
_FUNCTION_NAMES = frozenset(
    "arccos arcsin arctan arg cos cosh cot coth csc deg det dim exp gcd hom inf ker lg lim "
    "liminf limsup ln log max min Pr sec sin sinh sup tan tanh".split())
_ANGLES = ("\u27e8", "\u27e9", "\u2329", "\u232a")
_BARS = ("|", "\u2016")
_DELIMITERS = (
    (re.compile(r"^\\\((.*)\\\)$", re.S), False),
    (re.compile(r"^\$\$(.*)\$\$$", re.S), True),
    (re.compile(r"^\\\[(.*)\\\]$", re.S), True),
    (re.compile(r"^\$(.*)\$$", re.S), False),
)
_ENVIRONMENT = re.compile(r"^\\begin\{([^}]+)\}.*\\end\{\1\}$", re.S)


def split_delimiters(source: str) -> tuple[str, bool] | None:
    """Return (tex, display) for delimited math (render-math's text), else None."""
    source = source.strip()
    for pattern, display in _DELIMITERS:
        match = pattern.match(source)
        if match:
            return match.group(1).strip(), display
    if _ENVIRONMENT.match(source):
        return source, True
    return None


@dataclass
class Converted:
    """One formula: MathML (or the TeX fallback) and what the TeX said about numbering."""

    markup: str
    error: str | None = None  # why it is shown as TeX; None when it is MathML
    label: str | None = None  # \label{x}
    tag: str | None = None  # the number to show, "(T)" (\tag{T}) or "T" (\tag*{T})
    refs: list[tuple[str, str]] = field(default_factory=list)  # ("eqref"|"ref", label)

    @property
    def ok(self) -> bool:
        return self.error is None


def tex_fallback(tex: str) -> str:
    """The TeX source as code, for a formula that cannot be converted."""
    return f'<code class="math-tex">{html.escape(tex, quote=False)}</code>'


def _preprocess(tex: str) -> tuple[str, Converted]:
    info = Converted("")
    label = _LABEL.search(tex)
    if label:
        info.label = label.group(1).strip()
    tex = _LABEL.sub("", tex)
    tag = _TAG.search(tex)
    if tag:
        text = tag.group(2).strip()
        info.tag = text if tag.group(1) else f"({text})"
    tex = _NONUMBER.sub("", _TAG.sub("", tex))

    def ref(match: re.Match[str]) -> str:
        info.refs.append((match.group(1), match.group(2).strip()))
        return rf"\text{{{_REF_TEXT}{len(info.refs) - 1}}}"

    tex = _REF.sub(ref, tex)
    tex = _ENV.sub(lambda m: rf"\{m.group(1)}{{{_ENV_RENAMES[m.group(2)]}}}", tex)
    tex = _FUNCTION.sub(r"\\operatorname{\1}", tex)
    return tex, info


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _merge_upright_runs(root: etree._Element) -> None:
    """``<mi mathvariant="normal">f</mi><mi mathvariant="normal">l</mi>`` -> ``<mi>fl</mi>``."""
    for parent in list(root.iter()):
        children = list(parent)
        run: list[etree._Element] = []
        for child in [*children, None]:
            upright = (child is not None and _local(child) == "mi"
                       and child.get("mathvariant") == "normal" and len(child) == 0
                       and len(child.text or "") == 1 and (child.text or "").isalpha()
                       and not (child.tail or "").strip())
            if upright:
                run.append(child)
                continue
            if len(run) > 1:
                run[0].text = "".join(c.text or "" for c in run)
                for extra in run[1:]:
                    parent.remove(extra)
            run = []


def _fix_tree(root: etree._Element) -> None:
    for mo in root.iter(f"{_M}mo"):
        text = mo.text or ""
        parent = mo.getparent()
        kind = _local(parent) if parent is not None else ""
        is_script = parent is not None and len(parent) == 2 and parent[1] is mo
        if kind == "mover" and is_script and text in _ACCENTS:  # \overline, \bar
            mo.text = OVERLINE
            mo.set("stretchy", "true")
            mo.attrib.pop("accent", None)
            parent.set("accent", "true")
        elif kind == "munder" and is_script and text == "\u2015":  # \underline
            mo.attrib.pop("accent", None)
            parent.set("accentunder", "true")
        elif kind == "mover" and is_script and text in _WIDE and mo.get("stretchy") != "false":
            parent.set("accent", "true")  # \widehat, \widetilde: an accent, not a script
        size = mo.get("minsize")
        if size and size == mo.get("maxsize"):  # \big, \Bigl, \bigg...
            mo.set("stretchy", "true")
            mo.set("symmetric", "true")
    _merge_upright_runs(root)
    _fix_operators(root)
    _function_spaces(root)


def _fix_operators(root: etree._Element) -> None:
    for element in list(root.iter(f"{_M}mo", f"{_M}mi")):
        text = element.text or ""
        parent = element.getparent()
        limits = (parent is not None and _local(parent) in ("munder", "munderover", "mover")
                  and parent[0] is element)
        if _local(element) == "mo" and text.isalpha() and not limits:
            element.tag = f"{_M}mi"  # \operatorname{polar}, \exp: a name, not an operator
            element.set(_FUNCTION_MARK, "1")
            if len(text) == 1:
                element.set("mathvariant", "normal")  # \operatorname{E}: upright
        elif (_local(element) == "mi" and len(text) == 1 and "\u0391" <= text <= "\u03a9"
              and not element.get("mathvariant")):
            element.set("mathvariant", "normal")  # TeX's capital Greek is upright
        elif (_local(element) == "mo" and text == "/" and not element.attrib):
            element.set("lspace", "0")  # n/2: an ordinary slash, not a spaced operator
            element.set("rspace", "0")
        elif _local(element) == "mi" and text in _ANGLES:
            element.tag = f"{_M}mo"  # \langle, \rangle are delimiters
            element.set("stretchy", "false")
        elif (_local(element) == "mo" and text in _BARS and element.get("stretchy") != "true"
              and not element.get("minsize")):
            # |x| and \lVert x \rVert: ordinary bars, neither stretched to the whole row
            # (\lVert q \rVert^2 grew to the height of the row) nor spaced as relations
            element.set("stretchy", "false")
            element.set("lspace", "0")
            element.set("rspace", "0")


def _is_function(element: etree._Element) -> bool:
    if _local(element) in ("msub", "msup", "msubsup", "munder", "munderover") and len(element):
        element = element[0]
    return _local(element) == "mi" and (
        element.get(_FUNCTION_MARK) is not None or (element.text or "") in _FUNCTION_NAMES)


def _function_spaces(root: etree._Element) -> None:
    """TeX's thin space after a function name before its argument (\\cos\alpha, \\log_2 n);
    none before a bracket or an operator (\\exp(x), \\sin x + 1). Only between the items of
    a row: inside ``msub``, ``msup``... the name's neighbour is its script, and a third child
    there is invalid MathML (``\\log_2 n`` drew as "log 2 n")."""
    for parent in list(root.iter()):
        if _local(parent) in ARITY:
            continue
        for child in list(parent):
            nxt = child.getnext()
            if nxt is not None and _is_function(child) and _local(nxt) not in ("mo", "mspace"):
                space = etree.Element(f"{_M}mspace", width="0.1667em")
                child.addnext(space)
    for element in root.iter(f"{_M}mi"):
        element.attrib.pop(_FUNCTION_MARK, None)


def _leaked_command(root: etree._Element) -> str | None:
    for element in root.iter(f"{_M}mi", f"{_M}mo", f"{_M}mn"):
        match = _LEAKED.search(element.text or "")
        if match:
            return match.group(0)
    return None


def _mark_refs(root: etree._Element, info: Converted) -> None:
    for mtext in root.iter(f"{_M}mtext"):
        text = mtext.text or ""
        if text.startswith(_REF_TEXT) and text[len(_REF_TEXT):].isdigit():
            kind, label = info.refs[int(text[len(_REF_TEXT):])]
            mtext.set(REF_ATTRIBUTE, f"{kind}:{label}")
            mtext.text = "(?)" if kind == "eqref" else "?"


def convert_tex(tex: str, display: bool) -> Converted:
    """Convert one formula; on failure ``markup`` is the TeX fallback and ``error`` says why."""
    source, info = _preprocess(tex)
    try:
        markup = convert(source, display="block" if display else "inline")
    except Exception as exc:  # noqa: BLE001 - latex2mathml raises many kinds
        info.markup, info.error = tex_fallback(tex), f"{type(exc).__name__}: {exc}".rstrip(": ")
        return info
    markup = _ROMAN.sub(lambda m: f'<mi mathvariant="normal">&#x{m.group(1)};</mi>', markup)
    try:
        root = etree.fromstring(markup)
    except etree.XMLSyntaxError as exc:
        info.markup, info.error = tex_fallback(tex), f"the MathML is not well-formed ({exc})"
        return info
    leaked = _leaked_command(root)
    if leaked:
        info.markup, info.error = tex_fallback(tex), f"unsupported command {leaked}"
        return info
    _fix_tree(root)
    invalid = structure_problems(root)
    if invalid:  # a bug of latex2mathml's or of the fixes: never invalid MathML in a page
        info.markup, info.error = tex_fallback(tex), f"invalid MathML: {invalid[0]}"
        return info
    _mark_refs(root, info)
    root.set("alttext", " ".join(tex.split()))
    info.markup = etree.tostring(root, encoding="unicode")
    return info


def _version() -> str:
    try:
        library = metadata.version("latex2mathml")
    except metadata.PackageNotFoundError:
        library = "?"
    return f"{CONVERTER_VERSION}/latex2mathml-{library}"


# What a stored formula's MathML may hold (it goes into pages as it is): MathML elements
# only, and no attribute that links or runs anything.
_UNSAFE_ATTRIBUTE = re.compile(r"^(?:on.*|href|src|xlink:href|\{[^}]*\}href)$", re.I)


def sound_markup(tex: str, converted: Converted) -> bool:
    """Whether a stored conversion of ``tex`` can go into a page: a failure is exactly
    :func:`tex_fallback` of the TeX; MathML is well-formed, MathML elements only, with no
    event handler or link attribute. Checked when the store is read, on top of its checksum,
    which whoever edits the store on purpose can recompute."""
    if converted.error is not None:
        return converted.markup == tex_fallback(tex)
    try:
        root = etree.fromstring(converted.markup)
    except (etree.XMLSyntaxError, ValueError):
        return False
    if root.tag != f"{_M}math":
        return False
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith(_M):
            return False  # comments, processing instructions, other namespaces
        if any(_UNSAFE_ATTRIBUTE.match(name) for name in element.attrib):
            return False
    return True


class MathConverter:
    """TeX -> :class:`Converted`, memoised per (tex, display) for the life of one build and,
    with a ``store`` file, across builds (a warm build converts nothing it converted before).

    The store is a derived file of the fence cache (``execblog.kernel.store.keep_derived``):
    it is read only when its checksum holds and every formula in it is
    :func:`sound_markup`; else it is a warning naming it, and every formula is converted
    again (and the store rewritten). ``load=False`` (``FENCES_MODE = "rerun"``) reads
    nothing from it.

    Calling it returns the markup only (feedkit's use); :meth:`convert` the whole result.
    """

    def __init__(self, store: Path | None = None, load: bool = True) -> None:
        self._cache: dict[tuple[str, bool], Converted] = {}
        self._used: set[tuple[str, bool]] = set()
        self._store = store
        self._new = 0
        if store is not None and load:
            self._load(store)

    def convert(self, tex: str, display: bool) -> Converted:
        key = (tex, display)
        if key not in self._cache:
            self._cache[key] = convert_tex(tex, display)
            self._new += 1
        self._used.add(key)
        return self._cache[key]

    def __call__(self, tex: str, display: bool) -> str:
        return self.convert(tex, display).markup

    def __len__(self) -> int:
        return len(self._cache)

    def _load(self, store: Path) -> None:
        loaded: dict[tuple[str, bool], Converted] = {}

        def check(payload: bytes) -> None:
            data = json.loads(payload.decode("utf-8"))
            if not isinstance(data, dict) or data.get("version") != _version():
                return  # a store of another converter: none of it is used, nothing to say
            try:
                for key, fields in data["formulas"].items():
                    refs = [(kind, label) for kind, label in fields.pop("refs", [])]
                    converted = Converted(**fields, refs=refs)
                    if not (isinstance(converted.markup, str) and key[:2] in ("0:", "1:")
                            and sound_markup(key[2:], converted)):
                        raise ValueError(f"formula {key[2:42]!r} is not this converter's")
                    loaded[(key[2:], key[0] == "1")] = converted
            except (TypeError, KeyError, AttributeError) as exc:
                raise ValueError(f"not a formula store ({type(exc).__name__})") from exc

        if read_derived(store, check) is None:
            loaded.clear()  # none, or not sound (a warning said so): convert them all
        self._cache.update(loaded)

    def save(self) -> None:
        """Write the formulas this build used to the store, when any was converted anew."""

        if self._store is None or not self._new:
            return
        # only what a later build's check accepts (the rest is converted again each time)
        formulas = {f"{int(display)}:{tex}": asdict(self._cache[(tex, display)])
                    for tex, display in sorted(self._used)
                    if sound_markup(tex, self._cache[(tex, display)])}
        text = json.dumps({"version": _version(), "formulas": formulas}, ensure_ascii=False)
        if keep_derived(self._store, text.encode("utf-8")):
            self._new = 0
        # else: an unwritable cache costs the next build the conversions, nothing else


__all__ = ["MATHML_NS", "REF_ATTRIBUTE", "Converted", "MathConverter", "convert_tex",
           "sound_markup", "split_delimiters", "tex_fallback"]
