"""The math font readers download: the committed font cut down to what the site's math uses.

fontTools' subsetter keeps the OpenType MATH table and closes it over the glyphs it names
(size variants and the parts of stretchy delimiters, radicals and accents), so brackets
still stretch in the subset. The WOFF2 (Brotli) result is cached by a hash of the source
font and the character set, so a warm build copies a file instead of subsetting again. The
kept file is a derived file of the fence cache (``execblog.kernel.store.keep_derived``): it
is used only when its checksum holds and it is a WOFF2 file, else a warning names it and the
font is subset again. The subset is made in memory, so a cache that cannot be written costs
the next build the subsetting, never the font.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Iterable
from pathlib import Path

from execblog.kernel.store import atomic_write, keep_derived, place, read_derived

SOURCE_FONT = "latinmodern-math.otf"  # in the theme's static/fonts/
OUTPUT_NAME = "math.woff2"  # in <THEME_STATIC_DIR>/fonts/, where css/math.css points
_VERSION = "4"  # bump when the subsetting options change (4: kept files carry a checksum)
WOFF2_SIGNATURE = b"wOF2"
_TEXT = re.compile(r">([^<>]+)<")
# Glyphs drawn by layout rather than by text: radicals (msqrt/mroot).
_IMPLIED = {"msqrt": "\u221a", "mroot": "\u221a"}
# Always kept: digits, Latin letters and common punctuation, so small edits to a post do
# not change the subset (and its cache key) every time.
BASE_TEXT = ("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
             " .,;:!?()[]{}|/+-=<>*'\u2212\u00d7\u22c5\u2026\u2032")


# A one-letter <mi> is drawn with the Mathematical Alphanumeric Symbols: italic by default
# (MathML Core's text-transform: math-auto), bold italic for \boldsymbol.
_LETTER_MI = re.compile(r'<mi(?: mathvariant="(bold-italic|bold|italic)")?>([^<&]|&[^;]+;)</mi>')
_STARTS = {  # (Latin capital, Latin small, Greek capital, Greek small)
    "italic": (0x1D434, 0x1D44E, 0x1D6E2, 0x1D6FC),
    "bold": (0x1D400, 0x1D41A, 0x1D6A8, 0x1D6C2),
    "bold-italic": (0x1D468, 0x1D482, 0x1D71C, 0x1D736),
}
_ITALIC_EXCEPTIONS = {"h": "\u210e", "\u0131": "\U0001d6a4", "\u0237": "\U0001d6a5"}


def styled_letter(char: str, variant: str = "italic") -> str:
    """The Mathematical Alphanumeric character a browser draws for ``char`` in that style."""
    if variant == "italic" and char in _ITALIC_EXCEPTIONS:
        return _ITALIC_EXCEPTIONS[char]
    latin_cap, latin_small, greek_cap, greek_small = _STARTS[variant]
    code = ord(char)
    for first, last, start in ((0x41, 0x5A, latin_cap), (0x61, 0x7A, latin_small),
                               (0x391, 0x3A9, greek_cap), (0x3B1, 0x3C9, greek_small)):
        if first <= code <= last:
            return chr(start + code - first)
    return char


def glyph_text(markup: str) -> set[str]:
    """The characters a MathML fragment shows (its text, the styled letters a browser
    substitutes for one-letter identifiers, radical signs)."""
    chars: set[str] = set()
    for match in _TEXT.finditer(markup):
        chars.update(html.unescape(match.group(1)))
    for match in _LETTER_MI.finditer(markup):
        chars.add(styled_letter(html.unescape(match.group(2)), match.group(1) or "italic"))
    for tag, char in _IMPLIED.items():
        if f"<{tag}" in markup:
            chars.add(char)
    return {c for c in chars if not c.isspace() or c == " "}


def base_text() -> str:
    """Always kept: BASE_TEXT and its italic letters."""
    return BASE_TEXT + "".join(styled_letter(c) for c in BASE_TEXT if c.isalpha())


def cache_key(source: Path, chars: Iterable[str]) -> str:
    digest = hashlib.sha256(_VERSION.encode())
    digest.update(hashlib.sha256(source.read_bytes()).digest())
    digest.update("".join(sorted(set(chars))).encode("utf-8"))
    return digest.hexdigest()[:20]


def subset(source: Path, chars: Iterable[str], target: Path) -> None:
    """Write the WOFF2 subset of ``source`` holding ``chars`` (and what MATH needs)."""

    atomic_write(target, subset_bytes(source, chars))


def subset_bytes(source: Path, chars: Iterable[str]) -> bytes:
    """The WOFF2 subset of ``source`` holding ``chars`` (and what MATH needs)."""
    from fontTools import subset as ft_subset

    options = ft_subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["ssty", "flac", "dtls"]  # script, flattened, dotless forms
    options.name_IDs = ["*"]  # the licence and the names stay
    options.notdef_outline = True
    options.drop_tables = [*(t for t in options.drop_tables if t != "MATH"), "FFTM"]
    font = ft_subset.load_font(str(source), options)
    _stretchy_overline(font)
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(chars) | set(base_text()))))
    subsetter.subset(font)
    buffer = io.BytesIO()
    ft_subset.save_font(font, buffer, options)
    return buffer.getvalue()


def _stretchy_overline(font: object) -> None:
    """Map U+00AF (what ``\\overline`` is, see converter) to the font's combining overline,
    the glyph with a horizontal construction in the MATH table: Chromium stretches U+00AF
    along the line but never U+0305, and Latin Modern's macron has no construction."""
    cmap = font.getBestCmap()  # type: ignore[attr-defined]
    glyph = cmap.get(0x0305)
    if glyph is None:
        return
    for table in font["cmap"].tables:  # type: ignore[index]
        if table.isUnicode():
            table.cmap[0x00AF] = glyph


def _check_woff2(data: bytes) -> None:
    if not data.startswith(WOFF2_SIGNATURE):
        raise ValueError("not a WOFF2 font")


def cached_subset(source: Path, chars: Iterable[str], cache_dir: Path,
                  trusted: bool = True) -> bytes:
    """The subset for ``chars``: from the cache folder when a sound one is kept there
    (``trusted=False``: never read), else made, and kept when the folder can be written."""

    chars = set(chars)
    path = cache_dir / f"{cache_key(source, chars)}.woff2"
    data = read_derived(path, _check_woff2) if trusted else None
    if data is None:
        data = subset_bytes(source, chars)
        keep_derived(path, data)  # False: made again next time
    return data


def install(source: Path, chars: Iterable[str], cache_dir: Path, fonts_dir: Path,
            trusted: bool = True) -> Path:
    """Put the subset at ``fonts_dir/math.woff2`` and take the (unused) source font out of
    the output, where the theme's static files put it. Raises (``OSError``, fontTools'
    errors) when the font cannot be made or written: then there is none."""

    data = cached_subset(source, chars, cache_dir, trusted)
    target = fonts_dir / OUTPUT_NAME
    place(target, data)
    remove_source_copy(fonts_dir)
    return target


def remove_source_copy(fonts_dir: Path) -> None:
    """The full font is only a source: readers never download it."""
    (fonts_dir / SOURCE_FONT).unlink(missing_ok=True)
