"""The one definition of the code points XML 1.0 forbids (or discourages).

Dependency-free on purpose (no Pelican): feeds (feedkit), fence output (fences), template
filters (themekit) and diagrams all import it.
"""

from __future__ import annotations

import re

__all__ = ["ILLEGAL_XML", "strip_illegal"]

# C0 controls except tab, LF, CR; DEL and the C1 block; lone surrogates; U+FFFE/U+FFFF.
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def strip_illegal(text: str) -> str:
    """Return text without XML-illegal characters."""
    return ILLEGAL_XML.sub("", text)
