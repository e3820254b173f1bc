"""TeX in BibTeX fields: math kept as math, and LaTeX citeproc-py's parser cannot read.

Titles hold math (``{$A^\\alpha$}``, ``$X_k$``) and TeX logos (``{\\TeX}``). citeproc-py's LaTeX
parser mangles the first and crashes on the second ("generator raised StopIteration": a macro
name at the end of a group), which cost the whole ``.bib`` file. So, before it reads a field:

- each formula (``$..$``, ``\\(..\\)``) becomes one private-use character that no parser, case
  change or escaping touches (:func:`protect`); the rendered HTML gets render-math's
  ``<span class="math">\\(tex\\)</span>`` in its place (:func:`restore_html`), which mathkit
  then typesets like any formula of the post, on the page and in feeds;
- the TeX logos become their names, and the text styles pandoc knows (``\\emph{x}``,
  ``\\textbf{x}``...) their argument, as a protected group;
- a field the parser still cannot read is read as plain text (:func:`plain_latex`: commands
  to their names, braces dropped) instead of failing.
"""

from __future__ import annotations

import html
import re

_FIRST = 0xF0000  # Supplementary Private Use Area-A: one character per distinct formula
_LAST = 0xFFFFD
_MATH = re.compile(r"(?<!\\)\$(?P<dollar>[^$]+?)(?<!\\)\$|\\\((?P<paren>.+?)\\\)", re.S)
_LOGOS = {"TeX": "TeX", "LaTeX": "LaTeX", "LaTeXe": "LaTeX2e", "BibTeX": "BibTeX",
          "XeTeX": "XeTeX", "LuaTeX": "LuaTeX", "ConTeXt": "ConTeXt", "AmSTeX": "AMS-TeX",
          "AmS": "AMS", "METAFONT": "METAFONT", "MF": "METAFONT", "MP": "METAPOST"}
_LOGO = re.compile(rf"\\({'|'.join(sorted(_LOGOS, key=len, reverse=True))})"
                   r"(?![A-Za-z])(?:\{\}|\\ )?")
_STYLES = re.compile(r"\\(?:emph|textit|textbf|textsc|texttt|textrm|textsf|textup|textmd|"
                     r"textnormal|mbox|text)\s*(?=\{)")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)\s*(\{)?")
_formulas: dict[str, str] = {}  # placeholder -> TeX
_placeholders: dict[str, str] = {}  # TeX -> placeholder


def _placeholder(tex: str) -> str:
    tex = " ".join(tex.split())
    found = _placeholders.get(tex)
    if found is None:
        code = _FIRST + len(_formulas)
        if code > _LAST:  # 65,534 distinct formulas in one process: shown as TeX
            return f"${tex}$"
        found = chr(code)
        _placeholders[tex] = found
        _formulas[found] = tex
    return found


def protect(value: str) -> str:
    """A BibTeX field with each formula as a placeholder, logos and text styles spelled out
    for citeproc-py's parser."""
    value = _MATH.sub(lambda m: _placeholder(m.group("dollar") or m.group("paren")), value)
    value = _LOGO.sub(lambda m: _LOGOS[m.group(1)], value)
    return _STYLES.sub("", value)


def plain_latex(value: str) -> str:
    """A field as plain text when citeproc-py cannot parse it: ``\\foo{x}`` -> ``x``,
    ``\\foo`` -> ``foo``, ``\\&`` -> ``&``, braces dropped."""
    value = _COMMAND.sub(lambda m: "{" if m.group(2) else m.group(1), value)  # \\foo{x}: x
    return " ".join(value.replace("{", "").replace("}", "").split())


def _formula_chars(text: str) -> list[str]:
    return [c for c in set(text) if c in _formulas]


def restore_html(text: str, css_class: str = "math") -> str:
    """Rendered HTML with each placeholder as render-math's inline math element."""
    for char in _formula_chars(text):
        inner = html.escape(f"\\({_formulas[char]}\\)", quote=False)
        text = text.replace(char, f'<span class="{css_class}">{inner}</span>')
    return text


def restore_text(text: str) -> str:
    """Rendered plain text with each placeholder as its TeX between dollars."""
    for char in _formula_chars(text):
        text = text.replace(char, f"${_formulas[char]}$")
    return text
