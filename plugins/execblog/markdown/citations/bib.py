"""Reading ``.bib`` files with citeproc-py's BibTeX source, and what it lacks.

citeproc-py (0.11) reads ASCII only, drops ``url`` and ``howpublished``, raises on entry
types it has no CSL type for (``@online``, ``@software``, ...) and passes DOIs through its
LaTeX parser. :class:`BibTeXSource` reads UTF-8, keeps ``url`` (or a ``\\url{...}`` in
``howpublished``) as the CSL ``URL``, maps unknown entry types to ``webpage`` or
``article``, and keeps DOIs and URLs verbatim (a ``https://doi.org/`` or ``doi:`` prefix
is taken off a DOI, since the style adds its own). Prose fields go through ``texmath``
first: math is kept for mathkit to typeset, TeX logos (``{\\TeX}``, which crashed citeproc's
LaTeX parser) are spelled out, and a field its parser still cannot read is plain text.
"""

from __future__ import annotations

import re
import warnings

from citeproc.source.bibtex import BibTeX
from citeproc.string import String

from .filecache import FileCache
from .texmath import plain_latex, protect

# BibTeX fields whose value is an identifier, not prose: no LaTeX, no case protection.
_VERBATIM = ("doi", "url", "howpublished", "eprint", "urldate")
_URL_MACRO = re.compile(r"\\(?:url|href)\s*\{([^{}]*)\}")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_LATEX_ESCAPE = re.compile(r"\\([_%&#$~])")
_MORE_TYPES = {
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "webpage": "webpage",
    "software": "webpage",  # CSL 1.0.1, as citeproc-py knows it, has no software/dataset
    "dataset": "webpage",
    "patent": "patent",
    "standard": "report",
    "periodical": "book",
    "collection": "book",
    "mvbook": "book",
    "incollection": "chapter",
}


class BibError(Exception):
    """A ``.bib`` file that cannot be read or parsed (the message says why)."""


def _verbatim(value: object) -> str:
    text = str(value).strip()
    text = text.replace("{", "").replace("}", "")
    return _LATEX_ESCAPE.sub(r"\1", text).strip()


class BibTeXSource(BibTeX):
    """citeproc-py's BibTeX source, with the repairs listed in the module docstring."""

    types = {**BibTeX.types, **_MORE_TYPES}

    def __init__(self, filename: str):
        # Its parser takes an open file, so the encoding (and BOM) is ours to choose.
        with open(filename, encoding="utf-8-sig") as file, warnings.catch_warnings():
            # "Unsupported BibTeX field" for every field CSL has no name for (month, isbn...).
            warnings.simplefilter("ignore")
            super().__init__(file)

    def _parse_string(self, title):  # noqa: ANN001, ANN202 - citeproc's signature
        value = protect(str(title))
        try:
            return super()._parse_string(value)
        except Exception:  # noqa: BLE001 - its LaTeX parser raises KeyError, RuntimeError...
            return String(plain_latex(value))

    def _parse_author(self, authors):  # noqa: ANN001, ANN202
        try:
            return super()._parse_author(authors)
        except Exception:  # noqa: BLE001 - as above: the names, without their LaTeX
            return super()._parse_author(plain_latex(str(authors)))

    def create_reference(self, key, bibtex_entry):  # noqa: ANN001 - citeproc's signature
        raw = {name: str(bibtex_entry.pop(name)) for name in _VERBATIM
               if name in bibtex_entry}
        if bibtex_entry.document_type not in self.types:
            bibtex_entry.document_type = "misc"
        reference = super().create_reference(key, bibtex_entry)
        doi = _DOI_PREFIX.sub("", _verbatim(raw.get("doi", "")))
        if doi:
            reference["DOI"] = doi
        url = _verbatim(raw.get("url", ""))
        how = raw.get("howpublished", "")
        if not url:  # howpublished = {\url{https://...}} (or a bare URL)
            found = _URL_MACRO.search(how)
            url = _verbatim(found.group(1) if found else how)
            if not re.match(r"https?://", url):
                url = ""
        if url:
            reference["URL"] = url
        return reference


def load(path: str) -> BibTeXSource:
    """The parsed file at ``path`` (kept while its size and mtime stay the same)."""
    return _parsed.get(path)


def _parse(path: str) -> BibTeXSource:
    try:
        return BibTeXSource(path)
    except OSError as exc:
        raise BibError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BibError(f"cannot read {path}: not UTF-8 ({exc.reason})") from exc
    except Exception as exc:  # noqa: BLE001 - citeproc's parser raises anything (asserts...)
        why = str(exc) or type(exc).__name__
        raise BibError(f"cannot parse {path}: {why}") from exc


_parsed: FileCache[BibTeXSource] = FileCache(_parse, BibError)
