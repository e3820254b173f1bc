"""Keep the build machine's paths off public pages.

Text a fence produced (streams, tracebacks, warnings, log lines) may name the author's
content folder, the interpreter's site-packages or the home directory. Pages, feeds and the
committed cache show paths relative to those places instead.
"""

from __future__ import annotations

import os
import sysconfig
from functools import lru_cache


@lru_cache(maxsize=1)
def _library_prefixes() -> tuple[str, ...]:
    names = ("purelib", "platlib", "stdlib", "platstdlib")
    found = {sysconfig.get_paths().get(name) for name in names}
    return tuple(sorted((p for p in found if p), key=len, reverse=True))


def content_root(path: str, source: str) -> str:
    """The content folder of a post, from its absolute ``path`` and content-relative
    ``source`` (``/site/content/posts/x.md`` and ``posts/x.md`` give ``/site/content``)."""
    suffix = source.replace("/", os.sep)
    if path.endswith(suffix):
        return path[: -len(suffix)].rstrip(os.sep)
    return os.path.dirname(path)


def scrub(text: str, root: str = "") -> str:
    """``text`` with absolute paths under ``root``, the libraries or home made relative."""
    if "/" not in text and os.sep not in text:
        return text
    for prefix in ((root,) if root else ()) + _library_prefixes():
        text = text.replace(prefix + os.sep, "")
    home = os.path.expanduser("~")
    if len(home) > 1:
        text = text.replace(home + os.sep, "~" + os.sep)
    return text
