"""What the engine keeps of a parameter grid's other states, and how they reach the
report and the page (see :mod:`execblog.engine.params` and
:mod:`execblog.engine.params_html`)."""

from __future__ import annotations

import re
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execblog.kernel.store import sha256

from .model import Fence, FenceResult
from .params import Grid, Value
from .params_html import controls, fragment, wrapper
from .settings import SettingsError


@dataclass
class StateRun:
    """One state of a fence but the default: its values, the fence bound to them, and its
    result (from the cache, or once its session ends)."""

    state: tuple[int, ...]
    chosen: dict[str, Value]
    fence: Fence
    result: FenceResult | None = None
    future: Future[list[FenceResult]] | None = None


def params_limit(value: Any) -> int:
    """``FENCES_PARAMS_LIMIT``: the most combinations one fence may have."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError("FENCES_PARAMS_LIMIT", value, "a whole number from 1 up")
    return value


def option_line(fence: Fence, name: str = "params") -> int:
    """The post line of the fence's ``#| NAME:`` option (its opener when not found)."""
    pattern = re.compile(rf"^\s*#\|\s*{re.escape(name)}\s*:")
    try:
        lines = Path(fence.path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return fence.line
    for number in range(fence.body_line, min(fence.code_line or fence.body_line + 50,
                                             len(lines) + 1)):
        if pattern.match(lines[number - 1]):
            return number
    return fence.line


def state_entries(
    entries: list[tuple[Fence, FenceResult]], grids: dict[tuple[str, int], Grid],
    states: dict[tuple[str, int], list[StateRun]],
) -> tuple[list[tuple[Fence, FenceResult]], list[dict[str, Value] | None]]:
    """The report's entries: each fence, and after one with ``params`` each other state;
    with each, its values (None for a fence without parameters)."""
    out: list[tuple[Fence, FenceResult]] = []
    params: list[dict[str, Value] | None] = []
    for fence, result in entries:
        where = (fence.path, fence.index)
        grid = grids.get(where)
        out.append((fence, result))
        params.append(grid.chosen(grid.default) if grid is not None else None)
        for run in states.get(where, []):
            assert run.result is not None  # collected before the report
            out.append((run.fence, run.result))
            params.append(run.chosen)
    return out, params


def render_grid(renderer: Any, fence: Fence, html: str, grid: Grid, runs: list[StateRun],
                controlled: set[str]) -> str:
    """The fence's default ``html`` in its block, each state's HTML written as a fragment
    file, and before it the controls of the parameters ``controlled`` has none for yet."""
    default_link = renderer.link(fragment(html), "html")
    links = {}
    for run in runs:
        assert run.result is not None
        links[run.state] = renderer.link(fragment(renderer.fence_html(run.fence, run.result)),
                                         "html")
    new = [name for name in grid.names if name not in controlled]
    controlled.update(new)
    prefix = "params-" + sha256(fence.source.encode())[:6]
    return controls(grid, new, prefix) + wrapper(grid, html, default_link, links)
