"""Compiler messages in the post's terms: file names and lines are the post's.

Sources are compiled from a file padded with blank lines, so a compiler's line numbers
already are the post's lines; only the file name is swapped for the post's content path
(``posts/x.md``), and the session's private folder is dropped. The first error gives the
log line (``content/posts/x.md:14: error: 'y' was not declared in this scope``); the whole
rewritten diagnostic, with the compiler's own source line and caret, is the error block.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# gcc and clang: posts/x.md:14:5: error: ...   (also "fatal error")
_GCC = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?:\d+:)? (?:fatal )?error: (?P<msg>.+)$",
                  re.MULTILINE)
# nvcc (EDG front end): posts/x.md(14): error: ...
_EDG = re.compile(r"^(?P<file>[^\s(][^(]*)\((?P<line>\d+)\): (?:catastrophic )?error: (?P<msg>.+)$",
                  re.MULTILINE)
# rustc: "error[E0425]: message" then " --> posts/x.md:14:5"
_RUST = re.compile(r"^error(?:\[\w+\])?: (?P<msg>.+)\n\s*--> (?P<file>[^:\n]+):(?P<line>\d+)",
                   re.MULTILINE)
_RUST_ANY = re.compile(r"^error(?:\[\w+\])?: (?P<msg>.+)$", re.MULTILINE)
# The linker: "... undefined reference to `foo'" (no line: the fence's)
_LINKER = re.compile(r"(?P<msg>undefined reference to .+|multiple definition of .+)$",
                     re.MULTILINE)

FirstError = Callable[[str, str], tuple[int | None, str]]


def rewrite(text: str, workdir: str, filename: str, source: str) -> str:
    """``<workdir>/fence_3.cpp`` and ``fence_3.cpp`` become ``posts/x.md``; other files in
    the private folder lose the folder."""
    text = text.replace(f"{workdir}/{filename}", source).replace(filename, source)
    return text.replace(f"{workdir}/", "")


def _first(pattern: re.Pattern[str], text: str, source: str) -> tuple[int | None, str]:
    for match in pattern.finditer(text):
        if match["file"] == source:
            return int(match["line"]), match["msg"].strip()
    match = pattern.search(text)  # an error in an included header: the fence's own line
    return (None, match["msg"].strip()) if match else (None, "")


def gcc_first_error(text: str, source: str) -> tuple[int | None, str]:
    """First error of gcc/clang output (already rewritten): (post line or None, message)."""
    line, msg = _first(_GCC, text, source)
    if msg:
        return line, msg
    linker = _LINKER.search(text)
    return None, (linker["msg"].strip() if linker else "")


def nvcc_first_error(text: str, source: str) -> tuple[int | None, str]:
    """First error of nvcc output: its own front end, else the host compiler's or linker's."""
    line, msg = _first(_EDG, text, source)
    return (line, msg) if msg else gcc_first_error(text, source)


def rustc_first_error(text: str, source: str) -> tuple[int | None, str]:
    """First error of rustc's human output: the message line, then its ``-->`` location."""
    line, msg = _first(_RUST, text, source)
    if msg:
        return line, msg
    match = _RUST_ANY.search(text)
    return None, (match["msg"].strip() if match else "")
