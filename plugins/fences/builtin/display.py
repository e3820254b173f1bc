"""Session names (``xp``, ``to_numpy``, ``backend``) and the IPython display protocol.

A representation that cannot be used (``_repr_html_`` returning bytes, ``_repr_png_``
returning something that is not PNG, a method that raises) is a warning logged under
``fences.display``, which the host prints with the fence's location, and the next
representation is tried; ``repr`` is the last one.

A value whose only representation is the default one naming a memory address
(``<matplotlib.lines.Line2D object at 0x7f...>``, or a list of them, as ``plt.plot(...)``
returns) shows nothing: that text is noise that changes on every build, so pages would never
be byte-identical (sphinx-gallery skips it too). ``print(value)`` still prints it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any

from ..backends import ArrayBackend
from ..hookspecs import hookimpl
from ..model import Output

log = logging.getLogger("fences.display")

# Tried in this order, as DESIGN 3.1 says; the first method that gives a usable value wins.
PROTOCOL = (
    ("_repr_html_", "text/html"),
    ("_repr_svg_", "image/svg+xml"),
    ("_repr_png_", "image/png"),
    ("_repr_markdown_", "text/markdown"),
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CANARY = "_ipython_canary_method_should_not_exist_"  # IPython's test for "has every attribute"
_ADDRESS = re.compile(r" (?:object )?at 0x[0-9a-fA-F]+>")


@hookimpl
def fences_session_setup(namespace: dict[str, Any], backend: ArrayBackend) -> None:
    namespace["xp"] = backend.xp
    namespace["to_numpy"] = backend.to_numpy
    namespace["backend"] = backend


@hookimpl(trylast=True)
def fences_format_value(value: Any) -> list[Output] | None:
    if isinstance(value, type) or _attribute(value, _CANARY) is not None:
        return [Output("text/plain", repr(value))]
    for method, mime in PROTOCOL:
        found = _call(value, method)
        if isinstance(found, tuple) and found:  # (data, metadata) form of the protocol
            found = found[0]
        if found is None:
            continue
        if mime == "image/png":
            data = png_bytes(found)
            if data is not None:
                return [Output(mime, data, {"figure": False})]
            _unusable(value, method, f"returned {_describe(found)}, not PNG data")
        elif isinstance(found, str):
            return [Output(mime, found)]
        else:
            _unusable(value, method, f"returned {_describe(found)}, not str")
    text = repr(value)
    if _ADDRESS.search(text):
        return []  # an address changes every build: nothing worth showing
    return [Output("text/plain", text)]


def png_bytes(found: Any) -> bytes | None:
    """PNG bytes from raw bytes or base64 text (IPython accepts both); None if not PNG."""
    if isinstance(found, str):
        try:
            found = base64.b64decode("".join(found.split()), validate=True)
        except (binascii.Error, ValueError):
            return None
    if isinstance(found, bytearray | memoryview):
        found = bytes(found)
    if isinstance(found, bytes) and found.startswith(PNG_SIGNATURE):
        return found
    return None


def _call(value: Any, method: str) -> Any:
    func = _attribute(value, method)
    if func is None or not callable(func):
        return None
    try:
        return func()
    except NotImplementedError:  # the protocol's other way to decline, as in IPython
        return None
    except Exception as exc:
        _unusable(value, method, f"raised {type(exc).__name__}: {exc}")
        return None


def _attribute(value: Any, name: str) -> Any:
    try:
        return getattr(value, name, None)
    except Exception:  # a property or __getattr__ that raises: no such method
        return None


def _describe(found: Any) -> str:
    kind = type(found).__name__
    return f"{kind} of length {len(found):,}" if isinstance(found, bytes | str) else kind


def _unusable(value: Any, method: str, problem: str) -> None:
    log.warning("display: %s.%s %s; showing the next representation",
                type(value).__name__, method, problem)
