"""Remove code points that XML 1.0 forbids (or discourages) so feeds always parse.

The one definition in the code base: fence output (fences/render.py) uses it as well.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping

# C0 controls except tab, LF, CR; DEL and the C1 block; lone surrogates; U+FFFE/U+FFFF.
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def strip_illegal(text: str) -> str:
    """Return text without XML-illegal characters."""
    return ILLEGAL_XML.sub("", text)


def clean_value(value: object) -> object:
    """Strip illegal characters from a string, or from each string of a list/tuple."""
    if isinstance(value, str):
        return strip_illegal(value)
    if isinstance(value, list | tuple):
        return type(value)(clean_value(v) for v in value)
    return value


def clean_fields(fields: MutableMapping[str, object]) -> None:
    """Clean every text field of a feedgenerator feed or item dict in place."""
    for key, value in fields.items():
        fields[key] = clean_value(value)
