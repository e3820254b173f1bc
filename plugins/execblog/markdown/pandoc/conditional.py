"""Quarto's conditional content: ``.content-visible`` and ``.content-hidden`` divs, with
``when-format``/``unless-format``, judged for HTML (``html`` and its family: ``html5``,
``revealjs`` no). Without a condition, ``.content-hidden`` hides and ``.content-visible``
shows. ``when-meta``/``unless-meta`` (metadata conditions) are not judged: shown."""

from __future__ import annotations

from .attributes import Attributes

HTML_FORMATS = {"html", "html4", "html5", "markdown"}  # Quarto's "html" matches html*


def _matches(value: str) -> bool:
    return any(name.strip() in HTML_FORMATS for name in value.replace(",", " ").split())


def shown(attributes: Attributes) -> bool:
    """Whether a div's content belongs in an HTML page."""
    visible = attributes.has("content-visible")
    hidden = attributes.has("content-hidden")
    if not (visible or hidden):
        return True
    when, unless = attributes.values.get("when-format"), attributes.values.get("unless-format")
    if when is None and unless is None:
        return visible
    applies = (when is None or _matches(when)) and (unless is None or not _matches(unless))
    return applies if visible else not applies
