"""The page side of parameter grids: the controls, the wrapper around a fence's default
state, and the per-state fragment files the theme's ``params.js`` fetches on demand.

A fence with ``params`` is rendered as usual (its default state: the page reads whole
without a script), inside ``<div class="params-fence">`` whose ``data-states`` maps each
other state (value indices, ``"0,2"``) to a fragment file; ``data-src`` links the default
state's fragment, so the script resolves the others' names against it. Fragments are
content-hashed files next to the figures (``fences/<hash>.html``) whose links name the
figures relative to themselves. The controls of a parameter come once per post, before the
first fence that uses it; they are ``hidden`` until the script shows them, and left out of
the search index (``data-pagefind-ignore``) and of feeds (``feedkit``).
"""

from __future__ import annotations

import json
import re
from html import escape

from .model import FEED_DROP, FEED_STATIC, feed_role
from .params import Grid, Value, state_id
from .render import OUTPUT_DIR

STATIC_PREFIX = "{static}/" + OUTPUT_DIR + "/"
CONTROLS_CLASS = "params-controls"
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def fragment(fence_html: str) -> bytes:
    """A state's HTML as a file in ``fences/``: its figure links relative to that folder."""
    return fence_html.replace(STATIC_PREFIX, "").encode()


def shown(value: Value) -> str:
    """A value as a control shows it: ``true``, ``0.01``, ``fp16``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ordered_numbers(values: tuple[Value, ...]) -> bool:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return len(numbers) == len(values) > 1 and all(
        a < b for a, b in zip(numbers, numbers[1:], strict=False))


def control(name: str, values: tuple[Value, ...], default: int, prefix: str) -> str:
    """One labelled control: a range slider over ordered numbers (its value shown in an
    ``<output>`` that screen readers announce), else a select."""
    ident = _UNSAFE_ID.sub("-", f"{prefix}-{name}")
    label = f'<label for="{ident}">{escape(name)}</label>'
    texts = [shown(v) for v in values]
    if _ordered_numbers(values):
        widget = (f'<input type="range" id="{ident}" data-param="{escape(name)}" '
                  f'autocomplete="off" min="0" '
                  f'max="{len(values) - 1}" step="1" value="{default}" '
                  f'aria-valuetext="{escape(texts[default])}" '
                  f"data-values='{escape(json.dumps(texts), quote=True)}'>"
                  f'<output for="{ident}" aria-live="polite">{escape(texts[default])}</output>')
    else:
        options = "".join(
            f'<option value="{i}"{" selected" if i == default else ""}>{escape(t)}</option>'
            for i, t in enumerate(texts))
        widget = (f'<select id="{ident}" data-param="{escape(name)}" autocomplete="off">'
                  f"{options}</select>")
    return f'<div class="params-control">{label}{widget}</div>'


def controls(grid: Grid, names: list[str], prefix: str) -> str:
    """The control area for ``names`` (the parameters of ``grid`` no earlier fence of the
    post has a control for), with the status line the script writes into."""
    if not names:
        return ""
    parts = [control(n, v, d, prefix)
             for n, v, d in zip(grid.names, grid.values, grid.default, strict=True)
             if n in names]
    return (f'<div class="{CONTROLS_CLASS}" role="group" aria-label="Parameters" hidden '
            f'data-pagefind-ignore{feed_role(FEED_DROP)}>{"".join(parts)}'
            '<p class="params-status" role="status" aria-live="polite"></p></div>')


def wrapper(grid: Grid, html: str, default_link: str, links: dict[tuple[int, ...], str]) -> str:
    """The fence's default HTML inside its ``params-fence`` block."""
    states = {state_id(s): link.removeprefix(STATIC_PREFIX) for s, link in links.items()}
    return (f'<div class="params-fence" data-params="{escape(" ".join(grid.names))}" '
            f'data-default="{state_id(grid.default)}" '
            f"data-states='{escape(json.dumps(states, sort_keys=True), quote=True)}' "
            f'data-src="{default_link}"{feed_role(FEED_STATIC)}>{html}</div>')
