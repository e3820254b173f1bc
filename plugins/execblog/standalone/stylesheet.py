"""The stylesheet of Execblog's outputs in a theme that is not Execblog's.

Execblog's theme links the component stylesheets itself (css/authoring.css, bench.css,
diagrams.css, math.css); they read the theme's variables (css/main.css). In any other theme,
the pages that show an output (a fence, math, a callout, a diagram, a benchmark table, a
citation or a cross-reference) get one ``<link>`` to ``<ASSETS_DIR>/css/outputs.css``,
assembled at build time from:

1. the variables the components read, scoped to the outputs so the theme's own variables
   are never touched: colours of surfaces from main.css's light and dark palettes (dark
   from ``[data-theme="dark"]`` or, with no choice made, ``prefers-color-scheme``), and the
   colours of lines and labels mixed from the theme's own text colour;
2. the component files, as they are;
3. ``theme/outputs.css``: surfaces (callouts, diagrams, tables) drawn on their own colours.

The outputs follow the reader's system dark mode (``prefers-color-scheme``) only where the
theme does (Pelican's notmyidea does, its simple does not): in a theme that stays light, the
rules for it are left out, so a dark figure never sits on a light page.

The link is put into each page as it is written (``content_written``: any theme, no
template change), before ``</head>``, with the theme's own ``SITEURL`` for that page; pages
without outputs are left alone. A page with MathML also preloads the math font (mathkit
writes it to ``<ASSETS_DIR>/fonts/``, where math.css points). The stylesheet is written at
``finalized`` when a page links it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from execblog import THEME
from execblog.kernel.diagnostics import emit, shown_path
from execblog.kernel.store import place

log = logging.getLogger(__name__)

ASSETS_DIR = "execblog"  # under the output: Execblog's own folder, css/ and fonts/
STYLESHEET = "css/outputs.css"  # in ASSETS_DIR
PARAMS_SCRIPT = "js/params.js"  # in ASSETS_DIR: the parameter controls (fences/params_html)
CSS = Path(THEME) / "static" / "css"
JS = Path(THEME) / "static"
COMPONENTS = ("authoring.css", "bench.css", "diagrams.css", "math.css")
SURFACES_CSS = Path(THEME) / "outputs.css"

# Outputs that sit in the prose, on the theme's page: lines and labels in its text colour.
PROSE_ROOTS = (".fence", ".citations", ".references", ".xref-number", ".xref-caption",
               ".xref-equation", ".math", ".bench-foot")
# Outputs with a surface of their own: main.css's palette, light or dark.
SURFACE_ROOTS = (".admonition", "figure.diagram", ".bench-wrap", ".fence-error",
                 ".fence-stderr", ".fence-figure", ".params-controls")
SHARED = ("content-gap", "radius", "mono")  # main.css's, the same in light and dark
PALETTE = ("theme", "content", "link", "entry", "code-bg", "code-fg", "stderr-bg",
           "stderr-border", "error-bg", "error-fg", "error-border", "figure-card")
INK = {
    "primary": "currentColor",
    "secondary": "color-mix(in srgb, currentColor 72%, transparent)",
    "tertiary": "color-mix(in srgb, currentColor 30%, transparent)",
    "border": "color-mix(in srgb, currentColor 20%, transparent)",
}
SURFACE_EXTRA = {  # diagrams.css's variables, from the surface palette
    "diagram-stroke": "var(--content)", "diagram-text": "var(--content)",
    "diagram-bg": "var(--theme)",
}

# What marks a page as showing an output (the classes the parts write).
_OUTPUT = re.compile(r'class="(?:fence|admonition|diagram|bench-wrap|citations|references'
                     r'|xref(?:-[a-z]+)?|math)[" ]|<math[\s>]')
_HEAD_END = re.compile(r"</head\s*>", re.I)
_SYSTEM_DARK = re.compile(r"^@media \(prefers-color-scheme: dark\) \{\n.*?^\}\n\n?", re.S | re.M)

_state: dict[str, Any] = {}


def uses_own_theme(settings: dict[str, Any]) -> bool:
    """Whether the blog's theme is Execblog's, or a copy of it: one that brings the component
    stylesheets, and links them itself. (Pelican has made THEME a path by now.)"""
    theme = settings.get("THEME")
    return bool(theme) and (Path(theme) / "static" / "css" / COMPONENTS[0]).is_file()


def follows_system_dark(settings: dict[str, Any]) -> bool:
    """Whether the blog's theme has a dark mode of the system's: ``prefers-color-scheme`` in
    one of its stylesheets or templates."""
    theme = Path(str(settings.get("THEME") or ""))
    files = [*(theme / "static").rglob("*.css"), *(theme / "templates").rglob("*.html")]
    for path in files:
        try:
            if "prefers-color-scheme" in path.read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:
            continue
    return False


def without_system_dark(css: str) -> str:
    """css without its top-level ``@media (prefers-color-scheme: dark)`` blocks (written, as
    in every file here, from that line to the next ``}`` at the start of a line)."""
    return _SYSTEM_DARK.sub("", css)


def static_dir(settings: dict[str, Any]) -> str:
    """Where Execblog's own static files go in the output (the math font, the stylesheet):
    the theme's static folder in Execblog's theme, else ASSETS_DIR."""
    if uses_own_theme(settings):
        return str(settings.get("THEME_STATIC_DIR", "theme"))
    return ASSETS_DIR


def palettes(main_css: str) -> tuple[dict[str, str], dict[str, str]]:
    """``--name: value`` of main.css's light (``:root``) and dark (``[data-theme="dark"]``)
    blocks; raises ValueError when one is missing."""
    found = []
    for selector in (r":root", r'\[data-theme="dark"\]'):
        block = re.search(rf"^{selector} \{{(.*?)^\}}", main_css, re.S | re.M)
        if block is None:
            raise ValueError(f"main.css: no {selector} block")
        found.append(dict(re.findall(r"--([\w-]+):\s*([^;]+);", block[1])))
    return found[0], found[1]


def _rule(selectors: list[str], values: dict[str, str]) -> str:
    body = "".join(f"  --{name}: {' '.join(value.split())};\n" for name, value in values.items())
    return ",\n".join(selectors) + " {\n" + body + "}\n"


def variables(main_css: str) -> str:
    """The variables block: shared values and ink on every output, the palette on
    surfaces."""
    light, dark = palettes(main_css)
    missing = [n for n in (*SHARED, *PALETTE) if n not in light] + [
        n for n in PALETTE if n not in dark]
    if missing:
        raise ValueError(f"main.css: no --{', --'.join(missing)} in its palette")
    roots = [*PROSE_ROOTS, *SURFACE_ROOTS]
    chosen = [f'[data-theme="dark"] {root}' for root in SURFACE_ROOTS]
    system = [f':root:not([data-theme="light"]) {root}' for root in SURFACE_ROOTS]
    dark_values = {name: dark[name] for name in PALETTE}
    return "\n".join([
        _rule(roots, {**{n: light[n] for n in SHARED}, **INK}),
        _rule(list(SURFACE_ROOTS), {**{n: light[n] for n in PALETTE}, **SURFACE_EXTRA}),
        _rule(chosen, dark_values),
        "@media (prefers-color-scheme: dark) {\n"
        + "".join(f"  {line}\n" if line else "\n"
                  for line in _rule(system, dark_values).splitlines()) + "}\n",
    ])


def stylesheet_text(system_dark: bool = True) -> str:
    """The whole stylesheet, assembled from the theme's files as they are now;
    ``system_dark=False`` (a theme that stays light): without the system's dark mode."""
    parts = ["/* Execblog's outputs, for any theme: assembled by execblog.standalone from "
             "Execblog's theme. */\n", variables((CSS / "main.css").read_text("utf-8"))]
    for name in COMPONENTS:
        parts.append(f"/* ---- css/{name} ---- */\n" + (CSS / name).read_text("utf-8"))
    parts.append("/* ---- outputs.css ---- */\n" + SURFACES_CSS.read_text("utf-8"))
    text = "\n".join(part.rstrip("\n") + "\n" for part in parts)
    return text if system_dark else without_system_dark(text)


def shows_outputs(html: str) -> bool:
    """Whether a written page holds one of Execblog's outputs."""
    return _OUTPUT.search(html) is not None


def head_links(context: dict[str, Any], with_math: bool, with_params: bool = False) -> str:
    """The ``<link>`` elements for one page, with the SITEURL the theme uses on that page
    (and the parameter controls' script where the page has controls)."""
    site = str(context.get("SITEURL") or "")
    folder = _state.get("dir", ASSETS_DIR)
    links = f'<link rel="stylesheet" href="{site}/{folder}/{STYLESHEET}">\n'
    if with_params:
        links += f'<script src="{site}/{folder}/{PARAMS_SCRIPT}" defer></script>\n'
    font = context.get("MATH_FONT")
    if with_math and font:
        links += (f'<link rel="preload" href="{site}/{font}" as="font" type="font/woff2" '
                  "crossorigin>\n")
    return links


def _initialized(pelican: Any) -> None:
    _state.clear()
    _state.update(active=not uses_own_theme(pelican.settings), linked=0,
                  dir=static_dir(pelican.settings),
                  system_dark=follows_system_dark(pelican.settings))


def _written(path: str, context: dict[str, Any] | None = None) -> None:
    """``content_written`` receiver: link the stylesheet from a page that shows outputs."""
    if not _state.get("active") or not str(path).endswith((".html", ".htm")):
        return
    page = Path(path)
    try:
        html = page.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    head = _HEAD_END.search(html)
    if head is None or not shows_outputs(html) or f"/{STYLESHEET}\"" in html[:head.start()]:
        return
    with_params = 'class="params-controls"' in html
    links = head_links(context or {}, "<math" in html, with_params)
    page.write_text(html[:head.start()] + links + html[head.start():], encoding="utf-8")
    _state["linked"] += 1
    _state["params"] = _state.get("params", 0) + with_params


def _finalized(pelican: Any) -> None:
    """Write the stylesheet when a page links it."""
    if not _state.get("active") or not _state.get("linked"):
        return

    target = Path(pelican.output_path) / _state["dir"] / STYLESHEET
    try:
        place(target, stylesheet_text(_state["system_dark"]).encode("utf-8"))
        if _state.get("params"):
            place(Path(pelican.output_path) / _state["dir"] / PARAMS_SCRIPT,
                  (JS / PARAMS_SCRIPT).read_bytes())
    except (OSError, ValueError) as exc:
        emit(shown_path(str(target)), None, "warning",
             f"cannot write the stylesheet of Execblog's outputs ({exc}); "
             f"{_state['linked']} page(s) link it")


def connect() -> None:
    from pelican import signals

    signals.initialized.connect(_initialized)
    signals.content_written.connect(_written)
    signals.finalized.connect(_finalized)
