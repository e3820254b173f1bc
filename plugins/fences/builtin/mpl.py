"""matplotlib: capture every figure left open at the end of a fence, in order, then close it.

SVG by default (byte-deterministic: fixed hash salt, no date), PNG at 2x with
``fig-format=png``. ``display(fig)`` shows a figure at once and closes it.

``fig-width``/``fig-height`` (inches, as in Quarto) resize each figure the fence shows as it
is captured, and the image is then exactly that size: saved without the tight bounding box,
laid out with matplotlib's constrained layout unless the figure chose a layout itself. With
one of the two, the other keeps the figure's aspect ratio.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from typing import Any

from ..hookspecs import hookimpl
from ..model import Output

SVG_SIZE = re.compile(rb'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"', re.S)


def configure_determinism() -> None:
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "fences"
    matplotlib.rcParams["figure.dpi"] = 100
    matplotlib.rcParams["savefig.dpi"] = 100


def render_figure(fig: Any, fmt: str, options: dict[str, Any] | None = None) -> Output:
    """One figure as an SVG or 2x PNG output, with its CSS pixel size (resized first to the
    fence's ``fig-width``/``fig-height`` when ``options`` give them)."""
    bbox = None if _resize(fig, options or {}) else "tight"
    buf = io.BytesIO()
    if fmt == "png":
        fig.savefig(buf, format="png", dpi=fig.dpi * 2, bbox_inches=bbox,
                    metadata={"Software": None})
        data = buf.getvalue()
        width, height = _png_size(data)
        size = (round(width / 2), round(height / 2))
        return Output("image/png", data, {"figure": True, "width": size[0], "height": size[1]})
    fig.savefig(buf, format="svg", bbox_inches=bbox, metadata={"Date": None})
    data = buf.getvalue()
    meta: dict[str, Any] = {"figure": True}
    match = SVG_SIZE.search(data[:2000])
    if match:  # pt -> CSS px
        meta["width"], meta["height"] = (round(float(v) * 4 / 3) for v in match.groups())
    return Output("image/svg+xml", data, meta)


def _resize(fig: Any, options: dict[str, Any]) -> bool:
    """Apply ``fig-width``/``fig-height`` (inches); whether the figure was resized."""
    width, height = options.get("fig-width"), options.get("fig-height")
    if not width and not height:
        return False
    old_w, old_h = fig.get_size_inches()
    if not width:
        width = height * old_w / old_h
    elif not height:
        height = width * old_h / old_w
    fig.set_size_inches(width, height)
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    if engine is None or isinstance(engine, PlaceHolderLayoutEngine):
        # labels fit inside the new size (a tight_layout() made at the old size is stale)
        with contextlib.suppress(RuntimeError, ValueError):
            fig.set_layout_engine("constrained")
    return True


def _png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@hookimpl
def fences_session_setup() -> None:
    if "matplotlib" in sys.modules:
        configure_determinism()


@hookimpl
def fences_capture_outputs(options: dict[str, Any]) -> list[Output]:
    if "matplotlib.pyplot" not in sys.modules:
        return []
    import matplotlib.pyplot as plt

    outputs = []
    try:
        for num in plt.get_fignums():
            outputs.append(render_figure(plt.figure(num), options.get("fig-format") or "svg",
                                         options))
    finally:
        plt.close("all")  # also when one fails to draw: no figure leaks into the next fence
    return outputs


@hookimpl
def fences_format_value(value: Any, options: dict[str, Any]) -> list[Output] | None:
    if "matplotlib.figure" not in sys.modules:
        return None
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

    if _artists(value, Artist):
        return []  # `plt.plot(...)` as last line: the figure is the output, not its repr
    if not isinstance(value, Figure):
        return None
    import matplotlib.pyplot as plt

    try:
        return [render_figure(value, options.get("fig-format") or "svg", options)]
    finally:
        plt.close(value)


def _artists(value: Any, artist: type) -> bool:
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, artist) for v in value)
    return isinstance(value, artist) and not hasattr(value, "savefig")
