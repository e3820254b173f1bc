"""Plain words for JSON mistakes: where the author made one, and what it is.

The standard decoder reports where it gave up, in its own terms ("Expecting value"). For the
mistakes people make by hand that place is often not the mistake: a trailing comma is seen
at the bracket after it, on the next line. :func:`explain` turns the decoder's error into
the offset of the mistake and one sentence about it.
"""

from __future__ import annotations

import json


def explain(source: str, exc: json.JSONDecodeError) -> tuple[int, str]:
    """(offset of the mistake, what it is in plain words) for the decoder's error."""
    pos = min(exc.pos, len(source))
    before = _previous(source, pos)
    here = source[pos:pos + 1]
    if not source[pos:].strip() and exc.msg.startswith(("Expecting", "Unterminated")):
        if not exc.msg.startswith("Unterminated string"):
            return pos, "the JSON ends early: a closing } or ] is missing"
    if before is not None and source[before] == "," and here in ("}", "]"):
        return before, "a comma after the last item: JSON allows none, remove it"
    if exc.msg.startswith("Expecting property name enclosed in double quotes"):
        if here == "'":
            return pos, "a key in single quotes: JSON needs double quotes (\"key\")"
        if here.isalpha() or here == "_":
            word = _word(source, pos)
            return pos, f"a key without quotes: write \"{word}\""
    if exc.msg.startswith("Expecting ',' delimiter"):
        if before is not None and "\n" in source[before:pos]:  # the item before ends a line
            return before + 1, "a comma is missing at the end of this line"
        return pos, "a comma is missing before this item"
    if exc.msg.startswith("Unterminated string"):
        return pos, "a string has no closing double quote"
    if exc.msg.startswith("Invalid control character") and here in ("\n", "\r"):
        return pos, "a string has no closing double quote before the end of the line"
    if exc.msg.startswith("Expecting value"):
        if here == "'":
            return pos, "a string in single quotes: JSON needs double quotes"
        word = _word(source, pos)
        if word in ("True", "False", "None"):
            fixed = {"True": "true", "False": "false", "None": "null"}[word]
            return pos, f"{word} is Python: JSON writes {fixed}"
        return pos, f"a value was expected here ({exc.msg.lower()})"
    if exc.msg.startswith("Extra data"):
        return pos, "text after the end of the JSON: one top-level object only"
    return pos, exc.msg[:1].lower() + exc.msg[1:]


def _previous(source: str, pos: int) -> int | None:
    """Offset of the last non-blank character before ``pos`` (None at the start)."""
    i = pos - 1
    while i >= 0 and source[i] in " \t\r\n":
        i -= 1
    return i if i >= 0 else None


def _word(source: str, pos: int) -> str:
    end = pos
    while end < len(source) and (source[end].isalnum() or source[end] in "_-"):
        end += 1
    return source[pos:end] or source[pos:pos + 1]
