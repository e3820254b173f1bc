"""Session names (``xp``, ``to_numpy``, ``backend``) and the IPython display protocol.

A representation that cannot be used (``_repr_html_`` returning bytes, ``_repr_png_``
returning something that is not PNG, a method that raises) is a warning logged under
``fences.display``, which the host prints with the fence's location, and the next
representation is tried; ``repr`` is the last one.

A value whose only representation is the default one naming a memory address
(``<matplotlib.lines.Line2D object at 0x7f...>``, or a list of them, as ``plt.plot(...)``
returns) shows nothing: that text is noise that changes on every build, so pages would never
be byte-identical (sphinx-gallery skips it too). ``print(value)`` still prints it.

``_repr_mimebundle_`` is asked first, as IPython does: what its bundle holds for a type
stands in for that type's ``_repr_*_`` method, in the order of :data:`PROTOCOL`.

``IPython.display.display(obj)`` (and ``display_markdown``, ``update_display``...) prints
``<IPython.core.display.Markdown object>`` outside an IPython shell. In a session it shows
``obj`` like the session's ``display``: the session setup puts a finder at the front of
``sys.meta_path`` which, when ``IPython.core.display_functions`` is first imported (by the
fence's ``from IPython.display import ...``), replaces that module's ``display`` before
``IPython.display`` copies it. Nothing imports IPython unless a fence does; IPython is
never required. Updates of a display (``handle.update``, ``update=True``) show nothing:
a page keeps the first display.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import sys
from typing import Any

from execblog.engine.backends import ArrayBackend
from execblog.engine.hookspecs import hookimpl
from execblog.engine.model import Output
from execblog.kernel.paths import scrub

from .after_import import patch_after_import

log = logging.getLogger("fences.display")

# Tried in this order, as DESIGN 3.1 says; the first method that gives a usable value wins.
PROTOCOL = (
    ("_repr_html_", "text/html"),
    ("_repr_svg_", "image/svg+xml"),
    ("_repr_png_", "image/png"),
    ("_repr_jpeg_", "image/jpeg"),
    ("_repr_markdown_", "text/markdown"),
    ("_repr_latex_", "text/latex"),
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Binary representations: the bytes they must start with, and their name in warnings.
IMAGES = {"image/png": (PNG_SIGNATURE, "PNG"), "image/jpeg": (b"\xff\xd8\xff", "JPEG")}
IPYTHON_DISPLAY = "IPython.core.display_functions"
_CANARY = "_ipython_canary_method_should_not_exist_"  # IPython's test for "has every attribute"
_ADDRESS = re.compile(r" (?:object )?at 0x[0-9a-fA-F]+>")


@hookimpl
def fences_session_setup(namespace: dict[str, Any], backend: ArrayBackend) -> None:
    namespace["xp"] = backend.xp
    namespace["to_numpy"] = backend.to_numpy
    namespace["backend"] = backend
    _route.namespace = namespace
    module = sys.modules.get(IPYTHON_DISPLAY)
    if module is not None:
        _route.patch(module)
    else:
        patch_after_import(IPYTHON_DISPLAY, _route.patch)


@hookimpl(trylast=True)
def fences_format_value(value: Any, settings: dict[str, Any]) -> list[Output] | None:
    if isinstance(value, type) or _attribute(value, _CANARY) is not None:
        return [_plain(repr(value), settings)]
    bundle, bundle_meta = _mimebundle(value)
    for method, mime in PROTOCOL:
        if mime in bundle:
            found, meta, where = bundle[mime], bundle_meta.get(mime), f"_repr_mimebundle_ {mime}"
        else:
            found, meta, where = _call(value, method), None, method
        if isinstance(found, tuple) and found:  # (data, metadata) form of the protocol
            found, meta = found[0], (found[1] if len(found) > 1 else None)
        if found is None:
            continue
        if mime in IMAGES:
            data = image_bytes(found, mime)
            if data is not None:
                return [Output(mime, data, {"figure": False, **_image_meta(meta)})]
            _unusable(value, where, f"returned {_describe(found)}, not {IMAGES[mime][1]} data")
        elif isinstance(found, str):
            return [Output(mime, found)]
        else:
            _unusable(value, where, f"returned {_describe(found)}, not str")
    plain = bundle.get("text/plain")
    text = plain if isinstance(plain, str) else repr(value)
    if _ADDRESS.search(text):
        return []  # an address changes every build: nothing worth showing
    return [_plain(text, settings)]


def _plain(text: str, settings: dict[str, Any]) -> Output:
    """A ``text/plain`` output naming no path of the build machine (a module's ``repr``
    names its file): content paths relative, libraries', home's and temp's shortened."""
    return Output("text/plain", scrub(text, str(settings.get("PATH") or "")))


def _mimebundle(value: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``value._repr_mimebundle_()`` as (data, metadata) dicts; empty when there is none."""
    func = _attribute(value, "_repr_mimebundle_")
    if func is None or not callable(func):
        return {}, {}
    try:
        found = func(include=None, exclude=None)  # as IPython's formatter calls it
    except NotImplementedError:
        return {}, {}
    except Exception as exc:
        _unusable(value, "_repr_mimebundle_", f"raised {type(exc).__name__}: {exc}")
        return {}, {}
    data, meta = found if isinstance(found, tuple) and len(found) == 2 else (found, {})
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        _unusable(value, "_repr_mimebundle_", f"returned {_describe(data)}, not a dict")
        return {}, {}
    return data, (meta if isinstance(meta, dict) else {})


def _image_meta(meta: Any) -> dict[str, Any]:
    """Width, height (CSS pixels) and alt text from an image's display metadata."""
    if not isinstance(meta, dict):
        return {}
    kept: dict[str, Any] = {k: meta[k] for k in ("width", "height")
                            if isinstance(meta.get(k), int) and not isinstance(meta[k], bool)}
    if isinstance(meta.get("alt"), str):
        kept["alt"] = meta["alt"]
    return kept


def image_bytes(found: Any, mime: str) -> bytes | None:
    """The bytes of a ``mime`` image (see :data:`IMAGES`) from raw bytes or base64 text
    (IPython accepts both); None if the data is not of that type."""
    if isinstance(found, str):
        try:
            found = base64.b64decode("".join(found.split()), validate=True)
        except (binascii.Error, ValueError):
            return None
    if isinstance(found, bytearray | memoryview):
        found = bytes(found)
    if isinstance(found, bytes) and found.startswith(IMAGES[mime][0]):
        return found
    return None


def png_bytes(found: Any) -> bytes | None:
    """PNG bytes from raw bytes or base64 text (IPython accepts both); None if not PNG."""
    return image_bytes(found, "image/png")


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


# -- IPython.display.display() in a session --------------------------------------------------
class _Route:
    """Where ``IPython.display.display`` sends values: the session's own ``display``."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] | None = None
        self.session_display: Any = None

    def target(self) -> Any:
        """The running session's ``display(value)``, found through the ``display`` name the
        session puts in the namespace (a method of the session) and remembered, since the
        fence's ``from IPython.display import display`` rebinds that name."""
        owner = getattr((self.namespace or {}).get("display"), "__self__", None)
        if callable(getattr(owner, "display", None)) and callable(getattr(owner, "emit", None)):
            self.session_display = owner.display
        return self.session_display

    def patch(self, module: Any) -> None:
        original = module.display
        if getattr(original, "_fences_route", False):
            return
        self.target()  # while the namespace's ``display`` is still the session's

        def display(*objs: Any, include: Any = None, exclude: Any = None,
                    metadata: Any = None, transient: Any = None, display_id: Any = None,
                    raw: bool = False, clear: bool = False, **kwargs: Any) -> Any:
            show = self.target()
            if show is None:  # not in a session after all: IPython's own behaviour
                return original(*objs, include=include, exclude=exclude, metadata=metadata,
                                transient=transient, display_id=display_id, raw=raw,
                                clear=clear, **kwargs)
            if not kwargs.get("update"):
                for obj in objs:
                    show(_Bundle(obj, metadata) if raw else obj)
            if display_id:
                return module.DisplayHandle(None if display_id is True else display_id)
            return None

        display._fences_route = True  # type: ignore[attr-defined]
        display.__doc__ = original.__doc__
        module.display = display


_route = _Route()


class _Bundle:
    """A raw mime bundle (``display(bundle, raw=True)``) shown through the protocol."""

    def __init__(self, data: Any, metadata: Any):
        self.data, self.metadata = data, metadata or {}

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        return self.data, self.metadata


