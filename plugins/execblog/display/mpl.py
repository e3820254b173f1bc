"""matplotlib: capture every figure left open at the end of a fence, in order, then close it.

``fig-format`` picks the file: ``svg``, ``png`` (2x: 192 dots per inch, shown at 96 CSS px per
inch, so a figure has the same display size in either format) or ``auto`` (the default).
``auto`` estimates the SVG's weight from the figure's artists before anything is drawn, and
takes PNG when the SVG would be heavy:

* any image (``imshow``, ``figimage``, ``pcolorfast``...) -> PNG: an SVG would only wrap
  the raster, and browsers smooth it when they scale it;
* otherwise ~110 bytes per drawn element (each path of a collection, each point of a
  scatter, each marker of a line, each patch) plus ~24 bytes per vertex of those paths;
  a ``pcolormesh`` counts its quads, a 3D surface its faces. Over :data:`AUTO_SVG_LIMIT`
  (300 kB: ~2,700 scatter points, a 50x50 ``pcolor``, a filled contour of a 200x200 grid)
  -> PNG. Plain lines count nothing however many points they have: the SVG path is
  simplified to what can be seen, and rasterizing a long noisy line is the slow case.

Both formats are byte-deterministic (fixed SVG hash salt, no date, no PNG software tag).
``display(fig)`` shows a figure at once and closes it; so does ``plt.show()`` for every open
figure, as Jupyter's inline backend does, while a ``python exec`` fence runs
(:func:`inline_show`): the figures come out where ``show`` was called, between the text
printed before and after it, and a plot made after it is a new figure. The figures a fence
leaves (or shows at once) are drawn side by side in forked copies of the session, one per
core, when that is safe (:func:`render_figures`): a fence that leaves 29 figures takes a
share of the time.

The figure is cropped to its tight bounding box, as ``bbox_inches="tight"`` does, but from
one draw: the box is measured without drawing (:func:`_tight_bbox`; savefig draws once more
to measure it) and a layout engine (constrained or tight layout) runs once before.

``fig-width``/``fig-height`` (inches, as in Quarto) resize each figure the fence shows as it
is captured, and the image is then exactly that size: saved without the tight bounding box,
laid out with matplotlib's constrained layout unless the figure chose a layout itself. With
one of the two, the other keeps the figure's aspect ratio.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import pickle
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

from execblog.engine import profiling
from execblog.engine.hookspecs import hookimpl
from execblog.engine.model import FenceOptions, Output
from execblog.engine.options import OptionSpec, yaml_list
from execblog.executors.local import forking

from .after_import import patch_after_import

SVG_SIZE = re.compile(rb'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"', re.S)
CSS_DPI = 96  # CSS px per inch: what an SVG's pt size (x 4/3) shows at
PNG_DPI = 2 * CSS_DPI
AUTO_SVG_LIMIT = 300_000  # estimated SVG bytes above which ``fig-format=auto`` takes PNG
ELEMENT_BYTES = 110  # one <path>/<use> with its style, as matplotlib writes it
VERTEX_BYTES = 24  # one "L 123.456 78.901" in a path


def configure_determinism() -> None:
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "fences"
    matplotlib.rcParams["figure.dpi"] = 100
    matplotlib.rcParams["savefig.dpi"] = 100


def render_figure(fig: Any, fmt: str, options: Mapping[str, Any] | None = None) -> Output:
    """One figure as an SVG or 2x PNG output (``fmt`` ``auto``: see :func:`choose_format`),
    with its CSS pixel size (resized first to the fence's ``fig-width``/``fig-height`` when
    ``options`` give them: a fence's options, or a plain mapping of option names)."""
    if not isinstance(options, FenceOptions):
        options = FenceOptions(options)
    tight = not _resize(fig, options)
    if fmt == "auto":
        fmt = choose_format(fig)
    if fmt == "png":
        data = _png(fig, tight)
        width, height = _png_size(data)
        return Output("image/png", data, {"figure": True, "width": round(width / 2),
                                          "height": round(height / 2)})
    data = _svg(fig, tight)
    meta: dict[str, Any] = {"figure": True}
    match = SVG_SIZE.search(data[:2000])
    if match:  # pt -> CSS px
        meta["width"], meta["height"] = (round(float(v) * 4 / 3) for v in match.groups())
    return Output("image/svg+xml", data, meta)


def choose_format(fig: Any, limit: float = AUTO_SVG_LIMIT) -> str:
    """``png`` when the figure holds an image or its SVG would weigh over ``limit`` bytes
    (:func:`svg_weight`), else ``svg``."""
    return "png" if svg_weight(fig, limit) > limit else "svg"


def svg_weight(fig: Any, limit: float = math.inf) -> float:
    """Estimated bytes of the figure's SVG beyond its axes and text (infinite with an image),
    from its visible artists, without drawing; counting stops once over ``limit``."""
    from matplotlib.collections import Collection, QuadMesh
    from matplotlib.image import AxesImage, BboxImage, FigureImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    total = 0.0
    for artist in _visible_artists(fig):
        if isinstance(artist, (AxesImage, BboxImage, FigureImage)):
            return math.inf
        if isinstance(artist, QuadMesh):
            rows, cols = artist.get_coordinates().shape[:2]
            total += (rows - 1) * (cols - 1) * (ELEMENT_BYTES + 5 * VERTEX_BYTES)
        elif isinstance(artist, Collection):
            total += _collection_weight(artist)
        elif isinstance(artist, Line2D):
            if artist.get_marker() not in (None, "None", "none", "", " "):
                total += len(artist.get_xdata()) * ELEMENT_BYTES
        elif isinstance(artist, Patch):
            total += ELEMENT_BYTES + len(artist.get_path().vertices) * VERTEX_BYTES
        if total > limit:
            break
    return total


def _collection_weight(collection: Any) -> float:
    faces = getattr(collection, "_faces", None)  # a 3D collection: 2D paths come at draw
    if faces is not None and getattr(faces, "ndim", 0) == 3:
        count, corners = faces.shape[:2]
        return count * (ELEMENT_BYTES + corners * VERTEX_BYTES)
    paths = collection.get_paths()
    offsets = len(collection.get_offsets())
    vertices = sum(len(path.vertices) for path in paths)
    if offsets > len(paths):  # one marker path, stamped at every offset (<use> elements)
        return offsets * ELEMENT_BYTES + vertices * VERTEX_BYTES
    return len(paths) * ELEMENT_BYTES + vertices * VERTEX_BYTES


def _visible_artists(fig: Any) -> Iterator[Any]:
    from matplotlib.axis import Axis

    stack = [fig]
    while stack:
        artist = stack.pop()
        if not artist.get_visible():
            continue
        yield artist
        if not isinstance(artist, Axis):  # ticks and tick labels weigh little
            stack.extend(reversed(artist.get_children()))


def _svg(fig: Any, tight: bool) -> bytes:
    return _save(fig, tight, format="svg", metadata={"Date": None})


def _png(fig: Any, tight: bool) -> bytes:
    from execblog.engine.darkfigs import (
        marking_image_data,  # where image data is: kept in dark renderings
    )

    return marking_image_data(fig, lambda: _save(
        fig, tight, format="png", dpi=PNG_DPI, metadata={"Software": None}))


@profiling.timed("figures: drawing and encoding")
def _save(fig: Any, tight: bool, **kwargs: Any) -> bytes:
    """``savefig`` with one draw: a layout engine runs once, before the tight box is
    measured, and is off while saving (savefig would otherwise lay out and measure in a
    draw of its own for a figure with any layout engine, even a spent one, or the tight box:
    two draws for one file)."""
    import matplotlib
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    buf = io.BytesIO()
    engine = fig.get_layout_engine()
    if fig.axes and engine is not None and not isinstance(engine, PlaceHolderLayoutEngine):
        # what Figure.draw does, and as it does: a layout it cannot do is left undone
        # (a compressed layout of axes in several subfigures raises ValueError)
        with contextlib.suppress(ValueError):
            engine.execute(fig)
    if engine is not None:  # none at all, so savefig makes no draw of its own
        rc = matplotlib.rcParams  # (None would install the rc's layout: a placeholder then)
        spare = rc["figure.autolayout"] or rc["figure.constrained_layout.use"]
        fig.set_layout_engine("none" if spare else None)
    try:
        fig.savefig(buf, bbox_inches=_tight_bbox(fig) if tight else None, **kwargs)
    except Exception:  # an artist placed only while drawing (an axes_grid1 locator wants
        if engine is not None:  # the renderer): savefig's own way, with its own draws
            fig.set_layout_engine(engine)
        buf = io.BytesIO()
        fig.savefig(buf, bbox_inches="tight" if tight else None, **kwargs)
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
    return buf.getvalue()


def _tight_bbox(fig: Any) -> Any:
    """What ``bbox_inches="tight"`` crops to, measured without drawing, grown to whole CSS
    px so that the PNG is exactly twice the SVG's size in CSS px.

    It is measured as savefig measures an SVG (SVG renderer at 72 dpi: glyph outlines, no
    hinting) for PNG too, so a figure has the same size in both formats."""
    import matplotlib
    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.transforms import Bbox

    dpi = fig.dpi
    try:
        fig.dpi = 72
        width, height = fig.get_size_inches() * 72
        bbox = fig.get_tightbbox(RendererSVG(width, height, io.StringIO(), image_dpi=dpi))
    finally:
        fig.dpi = dpi
    bbox = bbox.padded(matplotlib.rcParams["savefig.pad_inches"])
    # a hair over the whole px: Agg truncates the canvas size to whole pixels
    x0, y0 = (math.floor(v * CSS_DPI) / CSS_DPI for v in (bbox.x0, bbox.y0))
    x1, y1 = (math.ceil(v * CSS_DPI) / CSS_DPI + 1e-9 for v in (bbox.x1, bbox.y1))
    return Bbox([[x0, y0], [x1, y1]])


def _resize(fig: Any, options: FenceOptions) -> bool:
    """Apply ``fig-width``/``fig-height`` (inches); whether the figure was resized. Hooks
    read these options with getattr and a default: the kind running may not take them."""
    width, height = getattr(options, "fig_width", None), getattr(options, "fig_height", None)
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
def fences_capture_outputs(options: FenceOptions) -> list[Output]:
    if "matplotlib.pyplot" not in sys.modules:
        return []
    import matplotlib.pyplot as plt

    try:
        figures = [plt.figure(num) for num in plt.get_fignums()]
        fmt = getattr(options, "fig_format", None) or "auto"
        return kept_renderings(render_figures(figures, fmt, options), options)
    finally:
        plt.close("all")  # also when one fails to draw: no figure leaks into the next fence


@contextlib.contextmanager
def inline_show(session: Any) -> Iterator[None]:
    """While the block runs, ``matplotlib.pyplot.show()`` emits the session's open figures
    (rendered in the fence's ``fig-format``, after what was printed so far) and closes them.
    Outside such a block ``show`` is matplotlib's own."""
    _patch_show()
    previous, _showing[0] = _showing[0], session
    try:
        yield
    finally:
        _showing[0] = previous


_showing: list[Any] = [None]  # the session whose fence is running, if any


def _show_open_figures(session: Any) -> None:
    import matplotlib.pyplot as plt

    figures = [plt.figure(num) for num in plt.get_fignums()]
    if not figures:
        return
    options = session.fence.options
    try:
        outputs = render_figures(figures, getattr(options, "fig_format", None) or "auto", options)
    finally:
        for fig in figures:
            plt.close(fig)
    for output in kept_renderings(outputs, options):
        session.emit(output)


def _renderings(text: str) -> tuple[str, ...]:
    roles = yaml_list(text)
    if not roles or any(r.lower() not in ("light", "dark") for r in roles):
        raise ValueError("expected a list of light and dark, such as [light, dark]")
    return tuple(r.lower() for r in roles)


RENDERINGS_OPTION = OptionSpec(
    "renderings", _renderings, (), True, "Quarto's [light, dark]: the cell draws each figure "
    "in both; the light one is shown (its dark version is made as for any figure)",
    keyed_at_default=False)
_counted: list[Any] = [None, 0]  # the fence (its options) whose figures are counted; count


def kept_renderings(outputs: list[Output], options: FenceOptions) -> list[Output]:
    """With Quarto's ``renderings: [light, dark]`` a cell draws every figure once per
    rendering, in that order: keep the light ones (the first of each group where none is
    light), counting across the fence's ``plt.show()`` calls."""
    roles = getattr(options, "renderings", None) or ()
    if not roles:
        return outputs
    if _counted[0] is not options:
        _counted[:] = [options, 0]
    keep = roles.index("light") if "light" in roles else 0
    kept = []
    for output in outputs:
        if _counted[1] % len(roles) == keep:
            kept.append(output)
        _counted[1] += 1
    return kept


def _patch_show() -> None:
    """Replace ``pyplot.show`` (once per process), or do it when pyplot is first imported."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        patch_after_import("matplotlib.pyplot", lambda module: _patch_show())
        return
    original = pyplot.show
    if getattr(original, "_fences_inline", False):
        return
    _alias_retired_styles()

    def show(*args: Any, **kwargs: Any) -> Any:
        session = _showing[0]
        if session is None:
            return original(*args, **kwargs)
        _show_open_figures(session)
        return None

    show._fences_inline = True  # type: ignore[attr-defined]
    show.__doc__ = original.__doc__
    pyplot.show = show


def _alias_retired_styles() -> None:
    """Let ``plt.style.use("seaborn-whitegrid")`` work as it did before matplotlib 3.8, which
    renamed the seaborn styles ``seaborn-v0_8-*``: notebooks written then still use them."""
    from matplotlib.style import library

    prefix = "seaborn-v0_8"
    for name in [n for n in library if n.startswith(prefix)]:
        library.setdefault("seaborn" + name[len(prefix):], library[name])


def render_figures(figures: list[Any], fmt: str, options: FenceOptions) -> list[Output]:
    """:func:`render_figure` of each figure, in order. Several are drawn side by side, one
    share each in forked copies of this process (up to one per core), when a fork is the
    same state (``execblog.executors.local.worker.unsafe_to_fork``: no other thread, no CUDA);
    otherwise, or when a copy fails, here, one after another. The bytes are the same either way;
    what a draw callback (``draw_event``) changes stays in the copy that drew."""
    ways = min(len(figures), len(os.sched_getaffinity(0)))
    if ways < 2 or _fork_hazard():
        return [render_figure(fig, fmt, options) for fig in figures]
    shares = [list(range(first, len(figures), ways)) for first in range(ways)]
    children = [_fork_render([figures[i] for i in share], fmt, options)
                for share in shares[1:]]
    done = {i: render_figure(figures[i], fmt, options) for i in shares[0]}
    for share, child in zip(shares[1:], children, strict=True):
        drawn = _collect(*child)
        for n, i in enumerate(share):  # a copy that failed: drawn here (its error raised here)
            done[i] = drawn[n] if drawn else render_figure(figures[i], fmt, options)
    return [done[i] for i in range(len(figures))]


def _fork_hazard() -> str:
    from execblog.executors.local.worker import unsafe_to_fork

    return unsafe_to_fork(None)


def _fork_render(figures: list[Any], fmt: str, options: FenceOptions) -> tuple[int, str]:
    """Fork a copy that renders ``figures`` into a temporary file: (its pid, the file)."""
    fd, path = tempfile.mkstemp(prefix="fences-figures-", suffix=".pickle")
    pid = forking.fork()
    if pid == 0:  # the copy: draw, write, and leave at once (no atexit, no stdio flush)
        code = 1
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump([render_figure(fig, fmt, options) for fig in figures], fh)
            code = 0
        finally:
            os._exit(code)
    os.close(fd)
    return pid, path


def _collect(pid: int, path: str) -> list[Output] | None:
    """What a copy from :func:`_fork_render` drew, or None when it failed."""
    try:
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        with open(path, "rb") as fh:
            return pickle.load(fh)  # noqa: S301 - written by our own fork, just now
    except (OSError, EOFError, pickle.UnpicklingError):
        return None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


@hookimpl
def fences_format_value(value: Any, options: FenceOptions) -> list[Output] | None:
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
        return [render_figure(value, getattr(options, "fig_format", None) or "auto", options)]
    finally:
        plt.close(value)


def _artists(value: Any, artist: type) -> bool:
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, artist) for v in value)
    return isinstance(value, artist) and not hasattr(value, "savefig")
