"""Dark variants of matplotlib figures, made on the host from the light figure's bytes.

Nothing runs again: the figure a fence drew (SVG or PNG) is recoloured. Neutral colours
(white, black and the greys between: backgrounds, text, spines, ticks, grid, legend frames)
move along a ramp from the dark theme's text colour (for black) to its background (for
white), the palette of ``execblog/theme/static/css/main.css``'s dark mode; coloured ones (the data:
lines, bars, colormaps, embedded images) are kept, so series stay as distinguishable as they
were. Nearly grey colours are blended between the two by their chroma, which also keeps
the anti-aliased edges of coloured lines in a PNG smooth.

A figure gets no dark variant (it is shown as drawn, on the theme's light card) when its
author chose the look: a coloured or dark figure or axes background (``facecolor``, a
``dark_background`` style). A transparent figure is recoloured like a white one. SVG that
matplotlib did not write, and JPEG, are left alone.

Variants are kept in the fence cache (``fences.render``); :func:`plausible_variant` is what a
kept one must look like, besides its checksum, to be published.
"""

from __future__ import annotations

import hashlib
import io
import re

import numpy as np

# The dark theme's --theme (page background) and --content (text), as in main.css.
DARK_BACKGROUND = "#1d1e20"
DARK_INK = "#d4d4d5"
# Chroma (max - min channel, 0..1) below LOW is grey and recoloured; above HIGH, kept.
LOW, HIGH = 0.06, 0.20
LIGHT = 0.6  # a background at least this light (channel mean, 0..1) is "light"
MAX_PIXELS = 16_000_000  # a larger PNG (4000 x 4000) is shown as drawn, in both themes

_MATPLOTLIB = re.compile(rb"<dc:title>Matplotlib v")
_HEX = rb"#[0-9a-fA-F]{6}\b"
# A colour in a style declaration (fill: #rrggbb) or presentation attribute (fill="#rrggbb").
_SVG_COLOUR = re.compile(rb"((?:fill|stroke|stop-color|flood-color)(?::\s*|=\"))(" + _HEX + rb")")
# The figure's background patch and each axes' first patch (its background).
_BACKGROUND = re.compile(
    rb'<g id="(?:patch_1|axes_\d+">\s*<g id="patch_\d+)">\s*<path d="[^"]*"\s*style="([^"]*)"'
)
_FILL = re.compile(rb"fill:\s*(none|" + _HEX + rb")")


def _rgb(hex_colour: str | bytes) -> np.ndarray:
    text = hex_colour.decode() if isinstance(hex_colour, bytes) else hex_colour
    return np.array([int(text[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float32) / 255


_INK, _BG = _rgb(DARK_INK), _rgb(DARK_BACKGROUND)


def recolour_planes(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """Map colours given as three channel planes (0..1): greys along the dark ramp, colours
    kept. (Planes, not a ``[..., 3]`` array: numpy is slow along a short last axis.)"""
    chroma = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    keep = np.clip((chroma - LOW) * (1 / (HIGH - LOW)), 0.0, 1.0)
    mean = (r + g + b) * (1 / 3)
    return [keep * c + (1.0 - keep) * (_INK[i] + mean * (_BG[i] - _INK[i]))
            for i, c in enumerate((r, g, b))]


def recolour(rgb: np.ndarray) -> np.ndarray:
    """:func:`recolour_planes` for colours as ``[..., 3]`` arrays."""
    return np.stack(recolour_planes(rgb[..., 0], rgb[..., 1], rgb[..., 2]), axis=-1)


def _hex(rgb: np.ndarray) -> bytes:
    return ("#" + "".join(f"{round(float(c) * 255):02x}" for c in rgb)).encode()


def _light_neutral(rgb: np.ndarray) -> bool:
    return float(np.ptp(rgb)) < LOW and float(rgb.mean()) >= LIGHT


def dark_svg(data: bytes) -> bytes | None:
    """The dark variant of a matplotlib SVG, or None when it should be shown as drawn."""
    if not _MATPLOTLIB.search(data[:2000]):
        return None
    for style in _BACKGROUND.findall(data):
        fill = _FILL.search(style)
        if fill and fill[1] != b"none" and not _light_neutral(_rgb(fill[1])):
            return None  # the author's own background
    cache: dict[bytes, bytes] = {}

    def swap(match: re.Match[bytes]) -> bytes:
        colour = match[2].lower()
        if colour not in cache:
            cache[colour] = _hex(recolour(_rgb(colour)))
        return match[1] + cache[colour]

    dark = _SVG_COLOUR.sub(swap, data)
    # matplotlib leaves black fills (text glyphs above all) to SVG's default: make it the ink.
    return dark.replace(b"<svg ", f'<svg fill="{DARK_INK}" '.encode(), 1)


def dark_png(data: bytes) -> bytes | None:
    """The dark variant of a PNG figure, or None when its corners are not a light grey
    (or transparent) background, or it is not a PNG Pillow can read, or is too large."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            mode, info = image.mode, dict(image.info)
            bands = image.convert("RGBA").split()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None  # not an image Pillow reads whole: shown as it is
    alpha = np.asarray(bands[3])
    rgb = [np.asarray(band, dtype=np.float32) * (1 / 255) for band in bands[:3]]
    for y, x in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        corner = np.array([c[y, x] for c in rgb])
        if alpha[y, x] > 25 and not _light_neutral(corner):
            return None
    planes = [Image.fromarray(np.rint(c * 255).astype(np.uint8), "L")
              for c in recolour_planes(*rgb)]
    out = Image.merge("RGBA", [*planes, bands[3]]) if mode == "RGBA" else Image.merge(
        "RGB", planes)
    buf = io.BytesIO()
    save = {"dpi": info["dpi"]} if "dpi" in info else {}
    out.save(buf, format="PNG", **save)
    return buf.getvalue()


def dark_variant(data: bytes, ext: str) -> bytes | None:
    """The dark variant of a figure file's bytes (``svg`` or ``png``), or None."""
    if ext == "svg":
        return dark_svg(data)
    if ext == "png":
        return dark_png(data)
    return None


_PNG = b"\x89PNG\r\n\x1a\n"


def plausible_variant(data: bytes, ext: str) -> bool:
    """Whether ``data`` looks like a dark rendering this module writes, in format ``ext``:
    a PNG (its signature), or a matplotlib SVG whose root sets the dark ink. A cheap check
    of a kept file's head on top of its checksum (``fences.cache.read_derived``), so that a
    garbage or foreign file is not published as a figure. (What is in the rest of the file
    only the checksum vouches for: scanning a large SVG costs as much as recolouring it.)"""
    if ext == "png":
        return data.startswith(_PNG)
    if ext == "svg":
        head = data[:4000]
        return bool(_MATPLOTLIB.search(head)) and f'<svg fill="{DARK_INK}" '.encode() in head
    return False


# Bump when the recolouring changes: the variant's file name changes with it. 2: the files
# kept in the fence cache carry a checksum, so older, unchecked ones are never read.
VERSION = 2
#: Files are ``<light name>.<SUFFIX>.<ext>``: a new palette or algorithm gets new names.
SUFFIX = "dark-" + hashlib.sha256(
    f"{VERSION}|{DARK_BACKGROUND}|{DARK_INK}|{LOW}|{HIGH}|{LIGHT}".encode()).hexdigest()[:6]
