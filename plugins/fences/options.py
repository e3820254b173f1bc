"""Fence options: the table of DESIGN 3.1, parsing (opener and ``#|`` lines) and validation."""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from .settings import check_timeout


class OptionError(ValueError):
    """A bad option; ``line`` is the post line it came from."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class OptionSpec:
    """One option: name, parser of its text value, default, and whether it changes results.

    Options that only change how results are shown (``echo``, ``caption``...) are left out
    of the cache key, so toggling them re-runs nothing.
    """

    name: str
    parse: Callable[[str], Any]
    default: Any
    affects_result: bool
    help: str


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in {"true", "yes", "1", "on"}:
        return True
    if low in {"false", "no", "0", "off"}:
        return False
    raise ValueError("expected true or false")


def _seconds(text: str) -> float:
    value = check_timeout(float(text))
    return int(value) if value.is_integer() else value


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return text

    return parse


def pattern(regex: str, what: str) -> Callable[[str], str]:
    compiled = re.compile(regex)

    def parse(text: str) -> str:
        if not compiled.fullmatch(text):
            raise ValueError(f"expected {what}")
        return text

    return parse


def _text(text: str) -> str:
    return text


def _paths(text: str) -> tuple[str, ...]:
    items = tuple(p for p in re.split(r"[,\s]+", text.strip()) if p)
    if not items:
        raise ValueError("expected one or more file paths")
    return items


# Options every kind takes.
COMMON_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("echo", _bool, True, False, "show the source"),
    OptionSpec("output", _bool, True, False, "show the outputs"),
    OptionSpec("fold", _bool, False, False, "source inside a collapsed <details>"),
    OptionSpec("session", pattern(r"[\w.-]{1,64}", "a name of letters, digits, _ . -"), "",
               True, "named namespace within the post"),
    OptionSpec("timeout", _seconds, None, False, "seconds for this fence"),
    OptionSpec("error", _bool, False, True, "an exception is expected"),
    OptionSpec("cache", _bool, True, False, "false: run on every build"),
    OptionSpec("caption", _text, "", False, "caption of the fence's figure(s)"),
    OptionSpec("alt", _text, "", False, "alt text of the figure(s)"),
    OptionSpec("inputs", _paths, (), True, "files whose content is part of the cache key"),
    OptionSpec("id", pattern(r"[A-Za-z][\w:-]{0,63}", "a letter then letters, digits, _ : -"),
               "", False, "anchor id for the output"),
)
# Taken by kinds that run on an array backend (``FenceKind.uses_backend``).
BACKEND_OPTION = OptionSpec("backend", pattern(r"[\w.-]{1,64}", "a backend name"), None, True,
                            "auto or a registered backend name")
# Taken by kinds whose code draws matplotlib figures (the python kind declares it).
FIG_FORMAT_OPTION = OptionSpec("fig-format", choice("svg", "png"), "svg", True,
                               "svg or png (2x)")


def kind_specs(kind: Any, backend_names: Iterable[str] | None = None) -> tuple[OptionSpec, ...]:
    """The options a fence of ``kind`` takes: the common ones, ``backend`` when the kind runs
    on an array backend (limited to ``backend_names``: ``auto`` and the candidates), then
    the kind's own. Anything else is an unknown option, and never part of the cache key."""
    specs = COMMON_OPTIONS
    if kind.uses_backend:
        backend = BACKEND_OPTION
        if backend_names is not None:
            backend = replace(BACKEND_OPTION, parse=choice(*backend_names))
        specs += (backend,)
    return specs + tuple(kind.options)


@functools.cache
def _option_line(comment: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(comment)}\|\s*(?P<key>[\w-]+)\s*:\s*(?P<value>.*?)\s*$")



def split_opener(info: str, line: int) -> list[str]:
    """Split the opener's info string into words, honouring quotes."""
    try:
        return shlex.split(info, comments=False, posix=True)
    except ValueError as exc:
        raise OptionError(f"cannot read the fence options ({exc})", line) from exc


def parse_assignments(words: Iterable[str], line: int) -> dict[str, tuple[str, int]]:
    """``key=value`` words -> {key: (value, line)}."""
    found: dict[str, tuple[str, int]] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise OptionError(f"option {word!r} is not of the form key=value", line)
        found[key] = (value, line)
    return found


def take_option_lines(
    body: list[str], first_line: int, comment: str = "#"
) -> tuple[dict[str, tuple[str, int]], int]:
    """Read leading ``#| key: value`` lines (``//| key: value`` where the kind's line comment
    is ``//``); return them and how many lines they span."""
    found: dict[str, tuple[str, int]] = {}
    count = 0
    option_line = _option_line(comment)
    for offset, text in enumerate(body):
        match = option_line.match(text)
        if not match:
            if text.startswith(f"{comment}|"):
                raise OptionError(
                    f"option line {text!r} is not of the form '{comment}| key: value'",
                    first_line + offset)
            break
        value = match["value"]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        found[match["key"]] = (value, first_line + offset)
        count += 1
    return found, count


def validate(
    raw: dict[str, tuple[str, int]], specs: Iterable[OptionSpec], defaults: dict[str, Any]
) -> dict[str, Any]:
    """Check every option against ``specs``; unknown names and bad values raise OptionError."""
    table = {spec.name: spec for spec in specs}
    options = {name: defaults.get(name, spec.default) for name, spec in table.items()}
    for name, (text, line) in raw.items():
        spec = table.get(name)
        if spec is None:
            raise OptionError(
                f"unknown option {name!r}; valid options: {', '.join(sorted(table))}", line
            )
        try:
            options[name] = spec.parse(text)
        except ValueError as exc:
            raise OptionError(f"bad value {text!r} for option {name!r}: {exc}", line) from exc
    return options


def result_options(options: dict[str, Any], specs: Iterable[OptionSpec]) -> dict[str, Any]:
    """The subset of options that changes what a fence produces (part of the cache key)."""
    return {s.name: options[s.name] for s in specs if s.affects_result and s.name in options}
