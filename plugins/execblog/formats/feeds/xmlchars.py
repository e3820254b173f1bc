"""Remove code points that XML 1.0 forbids (or discourages) so feeds always parse.

``ILLEGAL_XML`` and ``strip_illegal`` are defined in the dependency-free ``xmlsafe`` package
(shared with fences, themekit and diagrams) and re-exported here.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from execblog.kernel.xmlsafe import ILLEGAL_XML, strip_illegal

__all__ = ["ILLEGAL_XML", "clean_fields", "clean_value", "strip_illegal"]


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
