"""Keep the build machine's paths off public pages.

Text a fence produced (streams, tracebacks, warnings, log lines, the ``repr`` of a value)
may name the author's content folder, the interpreter's site-packages, the interpreter's
own folder, the temporary folder or the home directory. Pages, feeds and the committed cache
show paths relative to those places instead: ``posts/data.csv`` (content),
``numpy/__init__.py`` (libraries), ``…/bin/python`` (``sys.prefix``), ``…/x`` (the
temporary folder) and ``~/notes.txt`` (home).
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
import tempfile
from functools import lru_cache

SHORTENED = "…" + os.sep  # what stands for the interpreter's or the temporary folder


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
    """``text`` with absolute paths under ``root``, the libraries, the interpreter, the
    temporary folder or home made relative or shortened."""
    if "/" not in text and os.sep not in text:
        return text
    pattern, replacements = _replacer(root, tempfile.gettempdir(), os.path.expanduser("~"))
    return pattern.sub(lambda m: replacements[m.group(0)], text)


@lru_cache(maxsize=16)
def _replacer(root: str, tmp: str, home: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern for every known place (each also as its real path: ``/tmp`` may be a
    link), longest first, so a content folder inside the temporary folder stays relative."""
    places = [(root, ""), *((p, "") for p in _library_prefixes()),
              *((p, SHORTENED) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix,
                                         sys.base_exec_prefix, tmp)),
              (home, "~" + os.sep)]
    replacements: dict[str, str] = {}
    for place, shown in places:
        for variant in {place, os.path.realpath(place) if place else ""}:
            variant = variant.rstrip(os.sep)
            if variant and os.path.isabs(variant):
                replacements.setdefault(variant + os.sep, shown)
    keys = sorted(replacements, key=len, reverse=True)
    # not in the middle of a longer path (``/var/tmp/x`` is not under ``/tmp``)
    pattern = re.compile(r"(?<![\w.~-])(?:" + "|".join(map(re.escape, keys)) + ")")
    return pattern, replacements
