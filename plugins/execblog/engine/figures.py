"""Which outputs are figures, their files, and the dark rendering each may have.

A figure is a PNG or JPEG image, or an SVG marked as a figure (matplotlib's; a diagram's SVG
is not one): it gets the fence's caption and alt text, is written as a file under
``output/fences/``, and may have a dark rendering (``darkfigs``, unless
``FENCES_DARK_FIGURES = False``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .darkfigs import SUFFIX, dark_variant
from .model import Output
from .settings import SettingsError

IMAGES = {"image/png": "png", "image/jpeg": "jpg"}


def is_figure(output: Output) -> bool:
    """Whether ``output`` is shown as a figure (with the fence's caption and alt text)."""
    return output.mime in IMAGES or (output.mime == "image/svg+xml"
                                     and bool(output.meta.get("figure")))


def dark_rendering(payload: bytes, ext: str, settings: dict[str, Any]
                   ) -> tuple[str, Callable[[], bytes | None]] | None:
    """For a figure file: the suffix of its dark rendering's name and the function that
    makes it, or None when dark renderings are off or its format has none."""
    enabled = settings.get("FENCES_DARK_FIGURES", True)
    if not isinstance(enabled, bool):
        raise SettingsError("FENCES_DARK_FIGURES", enabled, "true or false")
    if not enabled or ext not in ("svg", "png"):
        return None
    return f"{SUFFIX}.{ext}", lambda: dark_variant(payload, ext)


def figure_file(output: Output) -> tuple[bytes, str] | None:
    """A figure output's file: its bytes and extension; None for other outputs."""
    if not is_figure(output):
        return None
    ext = "svg" if output.mime == "image/svg+xml" else IMAGES[output.mime]
    data = output.data
    return (data if isinstance(data, bytes) else data.encode()), ext
