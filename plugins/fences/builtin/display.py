"""Session names (``xp``, ``to_numpy``, ``backend``) and the IPython display protocol."""

from __future__ import annotations

import base64
from typing import Any

from ..backends import ArrayBackend
from ..hookspecs import hookimpl
from ..model import Output

# Tried in this order, as DESIGN 3.1 says; the first method that gives a value wins.
PROTOCOL = (
    ("_repr_html_", "text/html"),
    ("_repr_svg_", "image/svg+xml"),
    ("_repr_png_", "image/png"),
    ("_repr_markdown_", "text/markdown"),
)


@hookimpl
def fences_session_setup(namespace: dict[str, Any], backend: ArrayBackend) -> None:
    namespace["xp"] = backend.xp
    namespace["to_numpy"] = backend.to_numpy
    namespace["backend"] = backend


@hookimpl(trylast=True)
def fences_format_value(value: Any) -> list[Output] | None:
    if isinstance(value, type):
        return [Output("text/plain", repr(value))]
    for method, mime in PROTOCOL:
        found = _call(value, method)
        if found is None:
            continue
        if isinstance(found, tuple):  # (data, metadata) form of the protocol
            found = found[0]
        if mime == "image/png":
            data = found if isinstance(found, bytes) else base64.b64decode(found)
            return [Output(mime, data, {"figure": False})]
        return [Output(mime, str(found))]
    return [Output("text/plain", repr(value))]


def _call(value: Any, method: str) -> Any:
    func = getattr(value, method, None)
    if func is None or not callable(func):
        return None
    try:
        return func()
    except Exception:
        return None
