"""Dark variants of matplotlib figures, made on the host from the light figure's bytes.

Nothing runs again: the figure a fence drew (SVG or PNG) is recoloured, its chrome only.
Neutral colours (white, black and the greys between: backgrounds, text, spines, ticks,
grid, legend frames) move along a ramp from the dark theme's text colour (for black) to its
background (for white), the palette of ``execblog/theme/static/css/main.css``'s dark mode.
Coloured ones (lines, markers, bars) keep their hue, and those below 3:1 against the dark
background (a viridis ``#440154`` line) are lifted to :data:`MIN_CONTRAST`: brightened,
then mixed with white, which keeps the hue. Nearly grey colours are blended between the two
by their chroma, which also keeps the anti-aliased edges of coloured lines in a PNG smooth.

Image data is never recoloured: images (``imshow``, photos), ``pcolormesh`` and colour
bars, filled contours (:data:`IMAGE_DATA`) keep every colour of the light rendering. In an
SVG they are the embedded ``<image>`` elements and the artists' groups (``QuadMesh_1``...);
a PNG says where they are in a ``tEXt`` chunk (:data:`IMAGE_DATA_KEY`, pixel boxes) that
:func:`marking_image_data` adds as the figure is saved.

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
import json
import re
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from . import profiling

# The dark theme's --theme (page background) and --content (text), as in main.css.
DARK_BACKGROUND = "#1d1e20"
DARK_INK = "#d4d4d5"
# Chroma (max - min channel, 0..1) below LOW is grey and recoloured; above HIGH, kept.
LOW, HIGH = 0.06, 0.20
LIGHT = 0.6  # a background at least this light (channel mean, 0..1) is "light"
MAX_PIXELS = 16_000_000  # a larger PNG (4000 x 4000) is shown as drawn, in both themes
MIN_CONTRAST = 3.0  # WCAG's minimum for graphics: coloured marks against the dark background
# matplotlib artists whose colours are data (besides images): kept exactly. Their SVG groups
# are named after the class (``QuadMesh_1``); a colour bar's solids are a QuadMesh.
IMAGE_DATA = ("QuadMesh", "PolyQuadMesh", "TriMesh", "QuadContourSet", "TriContourSet",
              "ContourSet")
IMAGE_DATA_KEY = "execblog-image-data"  # PNG tEXt: JSON [[x0, y0, x1, y1], ...] pixel boxes

_MATPLOTLIB = re.compile(rb"<dc:title>Matplotlib v")
_DATA_GROUP = re.compile(rb'<g id="(?:' + "|".join(IMAGE_DATA).encode() + rb')_\d+"')
_GROUP_TAG = re.compile(rb"<g\b[^>]*?(/?)>|</g>")
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


def _luminance(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB planes (0..1)."""
    def linear(c: np.ndarray) -> np.ndarray:
        return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


# The least luminance with MIN_CONTRAST against the background, with a margin for 8 bits.
_LEAST = (MIN_CONTRAST + 0.05) * (float(_luminance(*_BG)) + 0.05) - 0.05


def _brighten(planes: list[np.ndarray], step: np.ndarray) -> list[np.ndarray]:
    """Along one path of the same hue: ``step`` 0..1 scales the colour up until its
    brightest channel is full, 1..2 then mixes it with white."""
    top = np.maximum(np.maximum(planes[0], planes[1]), np.maximum(planes[2], 1e-6))
    scale = 1 + np.minimum(step, 1) * (1 / top - 1)
    white = np.clip(step - 1, 0, 1)
    return [np.minimum(c * scale, 1.0) * (1 - white) + white for c in planes]


def lift_planes(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """Colours below :data:`MIN_CONTRAST` against the dark background made just light
    enough (searched by bisection along :func:`_brighten`), their hue kept; others as
    they are."""
    dim = _luminance(r, g, b) < _LEAST
    if not dim.any():
        return [r, g, b]
    planes = [c[dim] for c in (r, g, b)]
    low, high = np.zeros(planes[0].shape, np.float32), np.full(planes[0].shape, 2, np.float32)
    for _ in range(16):
        mid = (low + high) / 2
        enough = _luminance(*_brighten(planes, mid)) >= _LEAST
        high, low = np.where(enough, mid, high), np.where(enough, low, mid)
    out = [c.copy() for c in (r, g, b)]
    for plane, lifted in zip(out, _brighten(planes, high), strict=True):
        plane[dim] = lifted
    return out


def recolour_planes(r: np.ndarray, g: np.ndarray, b: np.ndarray,
                    keys: np.ndarray | None = None) -> list[np.ndarray]:
    """Map colours given as three channel planes (0..1): greys along the dark ramp, colours
    kept, or lifted when too dark (:func:`lift_planes`). (Planes, not a ``[..., 3]`` array:
    numpy is slow along a short last axis.) ``keys``, one number per colour (equal numbers:
    equal colours), let the lift, the costly part, be computed once per distinct colour:
    a figure's pixels have few."""
    chroma = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    keep = np.clip((chroma - LOW) * (1 / (HIGH - LOW)), 0.0, 1.0)
    mean = (r + g + b) * (1 / 3)
    coloured = keep > 0
    kept = [r, g, b]
    if coloured.any():
        if keys is None:
            lifted = lift_planes(*(c[coloured] for c in (r, g, b)))
        else:
            _, first, inverse = np.unique(keys[coloured], return_index=True,
                                          return_inverse=True)
            distinct = lift_planes(*(c[coloured][first] for c in (r, g, b)))
            lifted = [c[inverse.ravel()] for c in distinct]
        kept = [c.copy() for c in kept]
        for plane, part in zip(kept, lifted, strict=True):
            plane[coloured] = part
    return [keep * c + (1.0 - keep) * (_INK[i] + mean * (_BG[i] - _INK[i]))
            for i, c in enumerate(kept)]


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

    dark = b"".join(part if is_data else _SVG_COLOUR.sub(swap, part)
                    for part, is_data in _split_image_data(data))
    # matplotlib leaves black fills (text glyphs above all) to SVG's default: make it the ink.
    return dark.replace(b"<svg ", f'<svg fill="{DARK_INK}" '.encode(), 1)


def _split_image_data(svg: bytes) -> list[tuple[bytes, bool]]:
    """The SVG cut into runs, each flagged True when it is an image-data artist's group
    (:data:`IMAGE_DATA`), whose colours are kept."""
    parts: list[tuple[bytes, bool]] = []
    done = 0
    for start in _DATA_GROUP.finditer(svg):
        if start.start() < done:
            continue  # nested in a group already kept
        depth, end = 0, len(svg)
        for tag in _GROUP_TAG.finditer(svg, start.start()):
            if tag[0].startswith(b"</"):
                depth -= 1
            elif not tag[1]:
                depth += 1
            if depth == 0:
                end = tag.end()
                break
        parts += [(svg[done:start.start()], False), (svg[start.start():end], True)]
        done = end
    return [*parts, (svg[done:], False)]


def dark_png(data: bytes) -> bytes | None:
    """The dark variant of a PNG figure, or None when its corners are not a light grey
    (or transparent) background, or it is not a PNG Pillow can read, or is too large."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            mode, info = image.mode, dict(image.info)
            boxes = _image_data_boxes(image.info.get(IMAGE_DATA_KEY), image.size)
            bands = image.convert("RGBA").split()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None  # not an image Pillow reads whole: shown as it is
    alpha = np.asarray(bands[3])
    channels = [np.asarray(band) for band in bands[:3]]
    rgb = [channel.astype(np.float32) * (1 / 255) for channel in channels]
    for y, x in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        corner = np.array([c[y, x] for c in rgb])
        if alpha[y, x] > 25 and not _light_neutral(corner):
            return None
    red, green, blue = (channel.astype(np.uint32) for channel in channels)
    dark = recolour_planes(*rgb, keys=red << 16 | green << 8 | blue)
    for x0, y0, x1, y1 in boxes:  # image data: as drawn
        for plane, light in zip(dark, rgb, strict=True):
            plane[y0:y1, x0:x1] = light[y0:y1, x0:x1]
    planes = [Image.fromarray(np.rint(c * 255).astype(np.uint8), "L") for c in dark]
    out = Image.merge("RGBA", [*planes, bands[3]]) if mode == "RGBA" else Image.merge(
        "RGB", planes)
    buf = io.BytesIO()
    save = {"dpi": info["dpi"]} if "dpi" in info else {}
    out.save(buf, format="PNG", **save)
    return buf.getvalue()


def _image_data_boxes(text: object, size: tuple[int, int]) -> list[tuple[int, ...]]:
    """The pixel boxes a PNG's :data:`IMAGE_DATA_KEY` chunk gives, clipped to the image;
    none when it has no such chunk or it is not the JSON this module writes."""
    try:
        boxes = json.loads(text) if isinstance(text, str) else []
        found = [tuple(int(v) for v in box) for box in boxes]
    except (ValueError, TypeError):
        return []
    width, height = size
    return [(max(x0, 0), max(y0, 0), min(x1, width), min(y1, height))
            for x0, y0, x1, y1 in found if x1 > x0 and y1 > y0]


def _is_image_data(artist: Any) -> bool:
    from matplotlib.image import _ImageBase

    if not artist.get_visible():
        return False
    if isinstance(artist, _ImageBase):
        return True
    return type(artist).__name__ in IMAGE_DATA and getattr(artist, "filled", True)


def marking_image_data(fig: Any, save: Callable[[], bytes]) -> bytes:
    """``save()``'s PNG of ``fig``, with a :data:`IMAGE_DATA_KEY` chunk giving where its
    image data was drawn (measured in the save's own draw, so in the file's pixels after
    any cropping), when it has any."""
    from matplotlib.transforms import Bbox

    if not fig.findobj(_is_image_data):
        return save()
    boxes: list[list[int]] = []

    def measure(event: Any) -> None:
        renderer = event.renderer
        boxes.clear()
        for artist in event.canvas.figure.findobj(_is_image_data):
            box = artist.get_window_extent(renderer)
            clip = artist.get_clip_box() if artist.get_clip_on() else None
            box = Bbox.intersection(box, clip) if clip is not None else box
            if box is None or not np.all(np.isfinite(box.extents)):
                continue
            top = renderer.height
            boxes.append([int(np.ceil(box.x0)), int(np.ceil(top - box.y1)),
                          int(np.floor(box.x1)), int(np.floor(top - box.y0))])

    hook = fig.canvas.mpl_connect("draw_event", measure)
    try:
        data = save()
    finally:
        fig.canvas.mpl_disconnect(hook)
    return _with_text(data, IMAGE_DATA_KEY, json.dumps(boxes)) if boxes else data


def _with_text(png: bytes, key: str, text: str) -> bytes:
    """``png`` with a ``tEXt`` chunk ``key: text`` before its pixels (``IDAT``)."""
    body = b"tEXt" + key.encode("latin-1") + b"\0" + text.encode("latin-1")
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    end = png.index(b"IDAT") - 4
    return png[:end] + chunk + png[end:]


@profiling.timed("dark renderings")
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
    of a kept file's head on top of its checksum (``execblog.kernel.store.read_derived``), so that a
    garbage or foreign file is not published as a figure. (What is in the rest of the file
    only the checksum vouches for: scanning a large SVG costs as much as recolouring it.)"""
    if ext == "png":
        return data.startswith(_PNG)
    if ext == "svg":
        head = data[:4000]
        return bool(_MATPLOTLIB.search(head)) and f'<svg fill="{DARK_INK}" '.encode() in head
    return False


# Bump when the recolouring changes: the variant's file name changes with it. 2: the files
# kept in the fence cache carry a checksum, so older, unchecked ones are never read. 3:
# image data kept, dim colours lifted.
VERSION = 3
#: Files are ``<light name>.<SUFFIX>.<ext>``: a new palette or algorithm gets new names.
SUFFIX = "dark-" + hashlib.sha256(
    f"{VERSION}|{DARK_BACKGROUND}|{DARK_INK}|{LOW}|{HIGH}|{LIGHT}|{MIN_CONTRAST}".encode()).hexdigest()[:6]
