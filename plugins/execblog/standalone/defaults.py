"""The settings Execblog's parts need, for a blog that did not set them.

Only what is missing is added: a value the blog set, even partly (one key of ``MATH_JAX``),
is kept as it is. Dicts are copied before they are changed, so Pelican's own default
settings are never edited in place.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# Execblog's Python-Markdown extensions, turned on in every blog (fences need none: the
# engine adds its own at ``initialized``).
MARKDOWN_EXTENSIONS = (
    "execblog.markdown.callouts",  # GitHub's > [!NOTE] callouts
    "execblog.markdown.pandoc",  # Quarto's body syntax: fenced divs, theorems, shortcodes
)
# pelican-render-math's MathJax options when mathkit draws the math as MathML: no MathJax
# script inserted into posts or summaries (its own defaults insert one).
MATHML_MATH_JAX = {"auto_insert": False, "process_summary": False, "message_style": None}


def apply(pelican: Any) -> None:
    """``initialized`` receiver, connected before any part's."""
    from execblog.markdown.math import renderer

    from .stylesheet import uses_own_theme

    settings = pelican.settings
    settings["MARKDOWN"] = with_extensions(settings.get("MARKDOWN"),
                                           strict=settings.get("FENCES_STRICT") is True)
    if uses_own_theme(settings):
        settings["MARKDOWN"] = with_lean_code(settings["MARKDOWN"])
    if renderer(settings) == "mathml":
        settings["MATH_JAX"] = {**MATHML_MATH_JAX, **(settings.get("MATH_JAX") or {})}


def with_lean_code(markdown: dict[str, Any]) -> dict[str, Any]:
    """With Execblog's theme: codehilite formats code with the LeanHtmlFormatter (the same
    colours as the theme's pygments.css, with fewer elements), unless the blog chose one."""
    configs = dict(markdown.get("extension_configs") or {})
    name = "markdown.extensions.codehilite"
    if name in configs and "pygments_formatter" not in (configs[name] or {}):
        from execblog.engine.lean_html import LeanHtmlFormatter

        configs[name] = {**(configs[name] or {}), "pygments_formatter": LeanHtmlFormatter}
    return {**markdown, "extension_configs": configs}


def with_extensions(markdown: dict[str, Any] | None, strict: bool = False) -> dict[str, Any]:
    """Pelican's MARKDOWN setting with MARKDOWN_EXTENSIONS added to its extension_configs,
    each unless the blog lists it already (with its own config, or in ``extensions``).
    ``strict`` (a strict build): the pandoc extension's unsupported constructs are errors."""
    markdown = dict(markdown or {})
    configs = dict(markdown.get("extension_configs") or {})
    listed = {e for e in markdown.get("extensions") or () if isinstance(e, str)}
    for name in MARKDOWN_EXTENSIONS:
        if name not in configs and name not in listed:
            pandoc = name == "execblog.markdown.pandoc"
            configs[name] = {"strict": True} if strict and pandoc else {}
            log.debug("execblog: Markdown extension %s added", name)
    markdown["extension_configs"] = configs
    return markdown
