"""mathkit: math as MathML made at build time, and the math font that draws it.

``MATH_RENDERER = "mathml"`` (the default): connected to ``all_generators_finalized`` after
the fence engine, citations and xrefs (PLUGINS order), it replaces the TeX that
pelican-render-math left in every article's and page's content (and authored summaries)
with MathML (``pages``, ``converter``), so no script is needed to read it. A formula that
cannot be converted is a located warning (an error in strict builds) and shows as
``<code class="math-tex">``. Then, before any page is written, it writes the site's math
font, cut down to the characters that math uses, to ``<THEME_STATIC_DIR>/fonts/math.woff2``
(``font``): made in memory (kept in ``<FENCES_CACHE_PATH>/mathkit/`` when that can be
written), so a read-only cache never costs the font that pages preload. Templates get
``MATH_FONT``, the font's path in the site, or None when it could not be made or written
(a warning says why): a theme should preload it only when set. At ``finalized`` the
(unused) source font the theme's static files brought along is taken out of the output.

What the fence cache keeps here (the subset, the formula store) is checked when read
(``execblog.kernel.store.read_derived``): damaged or edited, it is a warning naming the
file and is made again; ``FENCES_MODE = "rerun"`` reads none of it.

Any other theme has no math font: Execblog's own is cut down, to ``execblog/fonts/``, next
to the stylesheet that ``execblog.standalone`` links from pages with math.

The script pelican-render-math adds to a post with math (reST posts always, Markdown ones
unless ``MATH_JAX["auto_insert"]`` is False) is taken out: MathML needs no MathJax.

``MATH_RENDERER = "mathjax"``: nothing here runs; pages load MathJax as before.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

from pelican import signals

from execblog import THEME
from execblog.kernel.contents import content_objects, forget_memoized_content, source_text
from execblog.kernel.diagnostics import emit, shown_path
from execblog.kernel.site_errors import cache_root, fail_at_end
from execblog.kernel.store import place, trusts_derived
from execblog.standalone.stylesheet import static_dir

from . import captions
from .converter import MathConverter
from .font import OUTPUT_NAME, SOURCE_FONT, cached_subset, install, remove_source_copy
from .pages import PageResult, Problem, convert_page

log = logging.getLogger(__name__)
RENDERERS = ("mathml", "mathjax")
AUTHORED = "themekit_summary_is_authored"  # set by themekit on each content object
FORMULAS = "formulas.json"  # conversions kept across builds, in <FENCES_CACHE_PATH>/mathkit/
_state: dict[str, Any] = {}
# pelican-render-math's MathJax loader (its mathjax_script_template), as it inserts it.
_MATHJAX_SCRIPT = re.compile(
    r"<script type=([\"'])text/javascript\1>\s*if \(!document\.getElementById\("
    r"'mathjaxscript_pelican_.*?</script>", re.S)


def renderer(settings: dict[str, Any]) -> str:
    value = settings.get("MATH_RENDERER") or "mathml"
    return value if value in RENDERERS else "mathml"


def initialized(pelican: Any) -> None:
    settings = pelican.settings
    value = settings.get("MATH_RENDERER") or "mathml"
    if value not in RENDERERS:
        log.error('MATH_RENDERER must be "mathml" or "mathjax", not %r: using "mathml"', value)
    settings["MATH_RENDERER"] = renderer(settings)  # templates read it
    _state.clear()

    store = None
    if settings["MATH_RENDERER"] == "mathml":

        store = cache_root(settings) / "mathkit" / FORMULAS
    _state.update(settings=settings, converter=MathConverter(store, trusts_derived(settings)),
                  chars=set(), formulas=0, font=None)


def _source_line(source: str, needle: str) -> int | None:
    first = next((line.strip() for line in needle.splitlines() if line.strip()), "")
    if not first:
        return None
    for number, line in enumerate(source.splitlines(), 1):
        if first in line:
            return number
    return None


def _report(obj: Any, problems: list[Problem], strict: bool) -> None:
    source_path = getattr(obj, "source_path", None) or ""
    source = source_text(obj)
    for problem in problems:
        severity = "error" if strict and problem.error else "warning"
        text = emit(shown_path(source_path) if source_path else "?",
                    _source_line(source, problem.needle), severity, problem.message)
        if severity == "error":
            fail_at_end(text, log)


def _convert_object(obj: Any, converter: MathConverter, css_class: str,
                    strict: bool) -> bool:
    content = getattr(obj, "_content", None)
    stripped = isinstance(content, str) and "mathjaxscript_pelican_" in content
    if stripped:
        content = obj._content = _MATHJAX_SCRIPT.sub("", content)
    if not isinstance(content, str) or f'class="{css_class}"' not in content:
        numbers: dict[str, str] = {}
        page = None
    else:
        page = convert_page(content, converter, css_class)
        obj._content = page.html
        numbers = page.numbers
    problems = list(page.problems) if page else []
    chars = set(page.chars) if page else set()
    changed = bool(page and page.math) or stripped
    metadata = getattr(obj, "metadata", None) or {}
    summary = metadata.get("summary")
    if isinstance(summary, str) and "mathjaxscript_pelican_" in summary:
        summary = metadata["summary"] = obj._summary = _MATHJAX_SCRIPT.sub("", summary)
        changed = True
    if isinstance(summary, str) and f'class="{css_class}"' in summary:
        short: PageResult = convert_page(summary, converter, css_class, numbers, links=False)
        metadata["summary"] = short.html
        obj._summary = short.html
        chars |= short.chars
        changed = True
        if getattr(obj, AUTHORED, False):  # else it is the first paragraph, reported above
            problems += short.problems
    if problems:
        _report(obj, problems, strict)
    _state["chars"] |= chars
    _state["formulas"] += page.math if page else 0
    return changed


def article_generator_finalized(generator: Any) -> None:
    _state["articles"] = generator


def page_generator_finalized(generator: Any) -> None:
    """Once posts and pages are read, make the math font for the math their text holds so
    far on a thread, while the fence engine waits for its sessions (at a cold build's start,
    for the fork server): the subset is kept in the fence cache, where :func:`_write_font`
    finds it when the site's math, fences' outputs and captions included, uses no other
    character (the usual case); otherwise it is made again there. The font costs a cold
    build 0.4 s, which no longer come after the last session."""
    settings = _state.get("settings")
    if settings is None or renderer(settings) != "mathml" or "guess" in _state:
        return

    source = _theme_source(settings)
    kept = cache_root(settings) / "mathkit"
    if not trusts_derived(settings) or not source.is_file() or any(kept.glob("*.woff2")):
        return  # (--rerun reads no kept font: the guess would be made for nothing; a kept
        # font, the last build's, is most likely this one's: read, not made, at the end)
    css_class = (settings.get("MATH_JAX") or {}).get("math_tag_class", "math")
    converter = _state["converter"]
    texts = [text for obj in content_objects([_state.get("articles"), generator])
             for text in (getattr(obj, "_content", None),
                          (getattr(obj, "metadata", None) or {}).get("summary"))
             if isinstance(text, str) and f'class="{css_class}"' in text]

    def guess() -> None:
        chars: set[str] = set()
        for text in texts:
            chars |= convert_page(text, converter, css_class).chars
        if chars:
            cached_subset(source, chars, kept)

    _state["guess"] = thread = threading.Thread(target=_quietly(guess), name="mathkit-font",
                                                daemon=True)
    thread.start()


def _quietly(func: Any) -> Any:
    def run() -> None:
        try:
            func()
        except Exception:  # noqa: BLE001 - a guess: the font is made (and any error said) later
            log.debug("math font made ahead failed", exc_info=True)
    return run


def finalized_generators(generators: Any) -> None:
    """all_generators_finalized receiver: MathML in every article's and page's content."""
    settings = _state.get("settings")
    if settings is None or renderer(settings) != "mathml":
        return
    guess = _state.pop("guess", None)
    if guess is not None:  # its conversions share the converter: done before these
        guess.join()

    css_class = (settings.get("MATH_JAX") or {}).get("math_tag_class", "math")
    strict = bool(settings.get("FENCES_STRICT"))
    converter = _state["converter"]
    generators = list(generators)
    changed = [obj for obj in content_objects(generators)
               if _convert_object(obj, converter, css_class, strict)]
    if changed:
        forget_memoized_content()
    font = _write_font(settings, _output_path(generators, settings))
    for generator in generators:  # (they share one context; a theme reads MATH_FONT)
        context = getattr(generator, "context", None)
        if isinstance(context, dict):
            context["MATH_FONT"] = font


def _output_path(generators: list[Any], settings: dict[str, Any]) -> Path:
    for generator in generators:
        if getattr(generator, "output_path", None):
            return Path(generator.output_path)
    return Path(settings.get("OUTPUT_PATH") or "output")


def _theme_source(settings: dict[str, Any]) -> Path:
    """The theme's math font; Execblog's own in a theme that has none (any other theme)."""
    own = Path(settings["THEME"]) / "static" / "fonts" / SOURCE_FONT
    return own if own.is_file() else Path(THEME) / "static" / "fonts" / SOURCE_FONT


def _fonts_dir(output: Path, settings: dict[str, Any]) -> Path:
    return output / static_dir(settings) / "fonts"


def _write_font(settings: dict[str, Any], output: Path) -> str | None:
    """Write the math font subset into the output, before the pages that preload it are
    written; return its path in the site, or None when there is none (nothing uses it, or
    it could not be made or written: a warning says so)."""
    chars = _state.get("chars") or set()
    source = _theme_source(settings)
    # (a page whose formulas all failed still has class="math", and so the preload: it gets
    # the font of the base characters)
    if renderer(settings) != "mathml" or not (chars or _state.get("formulas")) or (
            not source.is_file()):
        return None

    try:
        target = install(source, chars, cache_root(settings) / "mathkit",
                         _fonts_dir(output, settings), trusts_derived(settings))
    except Exception as exc:  # noqa: BLE001 - fontTools raises many kinds; the site stands

        emit(shown_path(str(source)), None, "warning",
             f"cannot make the math font ({type(exc).__name__}: {exc}); math is drawn with "
             "the reader's own math font")
        return None
    _state["font"] = target.read_bytes()
    return f"{static_dir(settings)}/fonts/{OUTPUT_NAME}"


def finalized(pelican: Any) -> None:
    """Save the formula store, and take the full source font out of the output (the theme's
    static files bring it along; the subset is already there: see ``_write_font``)."""
    settings = pelican.settings
    converter = _state.get("converter")
    if converter is not None:
        converter.save()
    fonts_dir = _fonts_dir(Path(pelican.output_path), settings)
    remove_source_copy(fonts_dir)
    font = _state.get("font")
    if font is not None:  # still the one written before the pages, whatever came since

        try:
            place(fonts_dir / OUTPUT_NAME, font)
        except OSError as exc:

            emit(shown_path(str(fonts_dir / OUTPUT_NAME)), None, "warning",
                 f"cannot write the math font ({exc.strerror or exc})")


def register() -> None:
    """Pelican entry point."""
    signals.initialized.connect(initialized)
    signals.article_generator_finalized.connect(article_generator_finalized)
    signals.page_generator_finalized.connect(page_generator_finalized)
    signals.all_generators_finalized.connect(captions.finalized)  # TeX in captions, alt
    signals.all_generators_finalized.connect(finalized_generators)
    signals.finalized.connect(finalized)


__all__ = ["MathConverter", "RENDERERS", "register", "renderer"]
