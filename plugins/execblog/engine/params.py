"""Parameter grids: ``#| params:`` runs a Python fence once per combination of values.

The option's parser (:func:`parse_params`) checks the mapping; :func:`grid_of` joins it
with ``params-default`` into a :class:`Grid`. Each combination ("state") is a copy of the
fence with the names bound on a line the option lines left blank (:func:`bind`), so line
numbers still match the post; its cache key is the fence's key plus its values
(:func:`state_key`). The engine runs the default state in the session as any fence, and
every other state as a session of its own that replays the fences above it
(:func:`execblog.engine.pipeline.Engine`); :mod:`execblog.engine.params_html` shows them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import keyword
from dataclasses import dataclass, replace
from typing import Any

import yaml

from .model import Fence, FenceOptions

Value = int | float | str | bool
DEFAULT_LIMIT = 64  # FENCES_PARAMS_LIMIT: combinations one fence may have


def _load(text: str, what: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise ValueError(f"expected {what}") from None


def _check_value(name: str, value: Any) -> Value:
    if isinstance(value, bool | int | float | str):
        return value
    raise ValueError(f"{name}: {value!r} is not a number, a string or a boolean")


def parse_params(text: str) -> dict[str, tuple[Value, ...]]:
    """``{lr: [0.01, 0.1], momentum: [0, 0.9]}`` -> {name: values}: Python names, each
    with a non-empty list of distinct numbers, strings or booleans."""
    loaded = _load(text, "a mapping of names to lists of values")
    if not isinstance(loaded, dict) or not loaded:
        raise ValueError("expected a mapping of names to lists of values, e.g. "
                         "{lr: [0.01, 0.1], momentum: [0.0, 0.9]}")
    grid: dict[str, tuple[Value, ...]] = {}
    for name, values in loaded.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"{name!r} is not a Python name")
        if not isinstance(values, list) or not values:
            raise ValueError(f"{name}: expected a non-empty list of values, e.g. [1, 2, 3]")
        checked = tuple(_check_value(name, v) for v in values)
        if len({json.dumps(v) for v in checked}) != len(checked):
            raise ValueError(f"{name}: a value is given twice")
        grid[name] = checked
    return grid


def parse_defaults(text: str) -> dict[str, Value]:
    """``{lr: 0.1}`` -> {name: value}, checked against ``params`` by :func:`grid_of`."""
    loaded = _load(text, "a mapping of names to values")
    if not isinstance(loaded, dict) or not loaded:
        raise ValueError("expected a mapping of names to values, e.g. {lr: 0.1}")
    return {str(name): _check_value(str(name), value) for name, value in loaded.items()}


@dataclass(frozen=True)
class Grid:
    """A fence's parameters: names, their values, and the default state (indices)."""

    names: tuple[str, ...]
    values: tuple[tuple[Value, ...], ...]
    default: tuple[int, ...]

    def states(self) -> list[tuple[int, ...]]:
        """Every combination as indices into ``values``, the default first."""
        others = (s for s in itertools.product(*(range(len(v)) for v in self.values))
                  if s != self.default)
        return [self.default, *others]

    def chosen(self, state: tuple[int, ...]) -> dict[str, Value]:
        return {n: v[i] for n, v, i in zip(self.names, self.values, state, strict=True)}

    def size(self) -> int:
        count = 1
        for values in self.values:
            count *= len(values)
        return count


def _same(a: Value, b: Value) -> bool:
    return type(a) is type(b) and a == b or (
        not isinstance(a, bool | str) and not isinstance(b, bool | str) and a == b)


def grid_of(options: FenceOptions) -> Grid | None:
    """The fence's grid, or None without ``params``; ValueError for a ``params-default``
    that names no parameter or a value not in its list."""
    params: dict[str, tuple[Value, ...]] | None = getattr(options, "params", None)
    defaults: dict[str, Value] = getattr(options, "params_default", None) or {}
    if not params:
        if defaults:
            raise ValueError("params-default is given without params")
        return None
    default = []
    for name, values in params.items():
        index = 0
        if name in defaults:
            found = [i for i, v in enumerate(values) if _same(v, defaults[name])]
            if not found:
                raise ValueError(f"params-default: {name}={defaults[name]!r} is not one of "
                                 f"its values {list(values)}")
            index = found[0]
        default.append(index)
    unknown = sorted(set(defaults) - set(params))
    if unknown:
        raise ValueError(f"params-default: {', '.join(unknown)} is not a parameter of this "
                         f"fence (it has {', '.join(params)})")
    return Grid(tuple(params), tuple(params.values()), tuple(default))


def binding(chosen: dict[str, Value]) -> str:
    """One line of Python that binds the values: ``lr = 0.01; momentum = 0.9``."""
    return "; ".join(f"{name} = {value!r}" for name, value in chosen.items())


def bind(fence: Fence, chosen: dict[str, Value], code: str | None = None) -> Fence:
    """A copy of ``fence`` that runs ``code`` (by default its ``exec_code``) with ``chosen``
    bound. The line goes where the option lines were blanked (``exec_code`` starts with one
    blank line per post line before the code), so every line keeps its post line number."""
    lines = (fence.exec_code if code is None else code).split("\n")
    blank = max(fence.body_line - 1, 0)  # the body's first line: an option line
    if blank >= len(lines) or lines[blank].strip():
        blank = 0
    lines[blank] = binding(chosen)
    return replace(fence, exec_code="\n".join(lines))


def state_key(base: str, chosen: dict[str, Value]) -> str:
    """A state's cache key: the fence's key (its code, options and session before it)
    plus its values."""
    material = json.dumps([base, list(chosen.items())], sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


def state_id(state: tuple[int, ...]) -> str:
    """How the page names a state: the value indices, ``"0,2"``."""
    return ",".join(str(i) for i in state)


def describe(chosen: dict[str, Value]) -> str:
    """``lr=0.01, momentum=0.9`` for messages."""
    return ", ".join(f"{name}={value!r}" for name, value in chosen.items())


def check_limit(grid: Grid, limit: int) -> str | None:
    """The error when the grid has more combinations than ``limit``, else None."""
    if grid.size() <= limit:
        return None
    sizes = " x ".join(str(len(v)) for v in grid.values)
    return (f"params: {sizes} = {grid.size()} combinations, more than the limit of {limit} "
            "(FENCES_PARAMS_LIMIT): use fewer values")


def check_shared(grids: list[tuple[Fence, Grid]]) -> None:
    """Fences of a post that share a parameter share its control: they must give it the
    same values and default. A fence that does not is marked with the problem."""
    first: dict[str, tuple[Fence, tuple[Value, ...], int]] = {}
    for fence, grid in grids:
        for name, values, index in zip(grid.names, grid.values, grid.default, strict=True):
            seen = first.setdefault(name, (fence, values, index))
            if seen[0] is fence or fence.problem:
                continue
            if [json.dumps(v) for v in seen[1]] != [json.dumps(v) for v in values] \
                    or seen[2] != index:
                fence.problem = (f"params: {name} has other values or another default than "
                                 f"at line {seen[0].line} ({list(seen[1])}, default "
                                 f"{seen[1][seen[2]]!r}); fences that share a parameter "
                                 "share its control, so give it the same values")
                fence.problem_line = fence.line
