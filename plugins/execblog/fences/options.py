"""Fence options: the table of DESIGN 3.1, parsing (opener and ``#|`` lines) and validation.

Quarto's cell option names are accepted as aliases (:data:`ALIASES`: ``label`` is ``id``,
``fig-cap`` is ``caption``...); the canonical name is what lands in ``fence.options``, so a
fence's cache key is the same whichever spelling the author used.
"""

from __future__ import annotations

import difflib
import functools
import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from .settings import check_timeout, parse_memory


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
    # False: the option enters the cache key only when set to something else than its
    # default, so adding it left every existing key (and the committed fence-cache) valid.
    keyed_at_default: bool = True


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


def _memory(text: str) -> int:
    """``memory=4G``: the session's memory limit while this fence runs, in bytes (0: none)."""
    return parse_memory(text) or 0


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


def _output(text: str) -> bool | str:
    """``true``, ``false`` or Quarto's ``asis`` (Markdown the fence prints is part of the
    post)."""
    if text.strip().lower() == "asis":
        return "asis"
    try:
        return _bool(text)
    except ValueError:
        raise ValueError("expected true, false or asis") from None


def _fold(text: str) -> bool | str:
    """``true`` (collapsed), ``false``, or Quarto's ``show`` (folded, open at first)."""
    if text.strip().lower() == "show":
        return "show"
    try:
        return _bool(text)
    except ValueError:
        raise ValueError("expected true, false or show") from None


def _line_numbers(text: str) -> tuple[int, ...]:
    """``"2 3"``, ``"2-4 7"`` or ``"2,3"`` -> (2, 3, 4, 7): sorted 1-based line numbers."""
    numbers: set[int] = set()
    items = [w for w in re.split(r"[,\s]+", text.strip()) if w]
    if not items:
        raise ValueError('expected line numbers, e.g. "2 3" or "2-4 7"')
    for item in items:
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", item)
        if not match:
            raise ValueError(f'{item!r} is not a line number or range (e.g. "2 3" or "2-4 7")')
        first, last = int(match[1]), int(match[2] or match[1])
        if first < 1 or last < first or last > 100_000:
            raise ValueError(f"{item!r} is not a range of lines from 1 up")
        numbers.update(range(first, last + 1))
    return tuple(sorted(numbers))


def _columns(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError("expected a whole number from 1 to 6") from None
    if not 1 <= value <= 6:
        raise ValueError("expected a whole number from 1 to 6")
    return value


def _inches(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError("expected a size in inches, e.g. 4 or 3.5") from None
    if not 0.5 <= value <= 50:
        raise ValueError("expected a size in inches from 0.5 to 50")
    return value


def _paths(text: str) -> tuple[str, ...]:
    items = tuple(p for p in re.split(r"[,\s]+", text.strip()) if p)
    if not items:
        raise ValueError("expected one or more file paths")
    return items


# Options every kind takes.
COMMON_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("echo", _bool, True, False, "show the source"),
    OptionSpec("output", _output, True, False, "show the outputs; asis: as Markdown of the post"),
    OptionSpec("fold", _fold, False, False, "source inside a collapsed <details> (show: open)"),
    OptionSpec("session", pattern(r"[\w.-]{1,64}", "a name of letters, digits, _ . -"), "",
               True, "named namespace within the post"),
    OptionSpec("timeout", _seconds, None, False, "seconds for this fence"),
    OptionSpec("memory", _memory, None, False,
               "memory limit of the session while this fence runs (4G, 512M; 0: none)"),
    OptionSpec("error", _bool, False, True, "an exception is expected"),
    OptionSpec("cache", _bool, True, False, "false: run on every build"),
    OptionSpec("caption", _text, "", False, "caption of the fence's figure(s)"),
    OptionSpec("alt", _text, "", False, "alt text of the figure(s)"),
    OptionSpec("inputs", _paths, (), True, "files whose content is part of the cache key"),
    OptionSpec("id", pattern(r"[A-Za-z][\w:-]{0,63}", "a letter then letters, digits, _ : -"),
               "", False, "anchor id for the output"),
    OptionSpec("eval", _bool, True, False, "false: the fence is shown, not run"),
    OptionSpec("include", _bool, True, False, "false: the fence runs, nothing is shown"),
    OptionSpec("warning", _bool, True, True, "false: Python warnings are not shown",
               keyed_at_default=False),
    OptionSpec("hl_lines", _line_numbers, (), False, "lines of the shown code to highlight"),
    OptionSpec("layout-ncol", _columns, 1, False, "figures side by side in N columns"),
)
# Quarto's names -> ours. Either spelling works; giving both is an error.
ALIASES: dict[str, str] = {
    "label": "id",
    "fig-cap": "caption",
    "tbl-cap": "caption",
    "fig-alt": "alt",
    "code-fold": "fold",
}
# Taken by kinds that run on an array backend (``FenceKind.uses_backend``).
BACKEND_OPTION = OptionSpec("backend", pattern(r"[\w.-]{1,64}", "a backend name"), None, True,
                            "auto or a registered backend name")
# Taken by kinds whose code draws matplotlib figures (the python kind declares it).
FIG_FORMAT_OPTION = OptionSpec("fig-format", choice("auto", "svg", "png"), "auto", True,
                               "auto (PNG for heavy figures, else SVG), svg or png (2x)")
# Figure sizes in inches, as in Quarto; a kind that declares ``fig-format`` takes them too.
FIG_SIZE_OPTIONS = (
    OptionSpec("fig-width", _inches, None, True, "figure width in inches",
               keyed_at_default=False),
    OptionSpec("fig-height", _inches, None, True, "figure height in inches",
               keyed_at_default=False),
)


def kind_specs(kind: Any, backend_names: Iterable[str] | None = None) -> tuple[OptionSpec, ...]:
    """The options a fence of ``kind`` takes: the common ones, ``backend`` when the kind runs
    on an array backend (limited to ``backend_names``: ``auto`` and the candidates), then
    the kind's own (with ``fig-width``/``fig-height`` where the kind declares
    ``fig-format``). Anything else is an unknown option, and never part of the cache key."""
    specs = COMMON_OPTIONS
    if kind.uses_backend:
        backend = BACKEND_OPTION
        if backend_names is not None:
            backend = replace(BACKEND_OPTION, parse=choice(*backend_names))
        specs += (backend,)
    own = tuple(kind.options)
    names = {spec.name for spec in own}
    if "fig-format" in names:
        own += tuple(spec for spec in FIG_SIZE_OPTIONS if spec.name not in names)
    return specs + own


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
    """``key=value`` words -> {key: (value, line)}.

    Bare words right after an assignment are the rest of an unquoted value with spaces
    (``caption=Singular values``): the error says how to quote it.
    """
    found: dict[str, tuple[str, int]] = {}
    words = list(words)
    i = 0
    while i < len(words):
        key, sep, value = words[i].partition("=")
        if not sep or not key:
            raise OptionError(f"option {words[i]!r} is not of the form key=value", line)
        rest = []
        while i + 1 + len(rest) < len(words) and "=" not in words[i + 1 + len(rest)]:
            rest.append(words[i + 1 + len(rest)])
        if rest:
            whole = " ".join([value, *rest]).replace('"', '\\"')
            raise OptionError(f'option {key!r} has a value with spaces: quote it, '
                              f'{key}="{whole}"', line)
        found[key] = (value, line)
        i += 1
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
    """Check every option against ``specs``; unknown names and bad values raise OptionError.

    Quarto's names (:data:`ALIASES`) are read as the option they stand for; giving both
    spellings is an error. ``include=false`` turns ``echo`` and ``output`` off.
    """
    table = {spec.name: spec for spec in specs}
    accepted = {**{a: t for a, t in ALIASES.items() if t in table}, **{n: n for n in table}}
    options = {name: defaults.get(name, spec.default) for name, spec in table.items()}
    given: dict[str, str] = {}  # canonical name -> the name the author wrote
    for name, (text, line) in sorted(raw.items(), key=lambda item: item[1][1]):
        canonical = accepted.get(name)
        if canonical is None:
            raise OptionError(unknown_option(name, accepted), line)
        if canonical in given:
            first = given[canonical]
            raise OptionError(f"options {first!r} and {name!r} are the same option: give one "
                              f"of {first} or {name}", line)
        given[canonical] = name
        try:
            options[canonical] = table[canonical].parse(text)
        except ValueError as exc:
            raise OptionError(f"bad value {text!r} for option {name!r}: {exc}", line) from exc
    if options.get("include") is False:
        options["echo"] = options["output"] = False
    return options


def unknown_option(name: str, accepted: Iterable[str]) -> str:
    """``unknown option 'flod'; did you mean 'fold'? valid options: ...``"""
    names = sorted(accepted)
    near = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else ";"
    return f"unknown option {name!r}{hint} valid options: {', '.join(names)}"


def result_options(options: dict[str, Any], specs: Iterable[OptionSpec]) -> dict[str, Any]:
    """The subset of options that changes what a fence produces (part of the cache key)."""
    return {s.name: options[s.name] for s in specs
            if s.affects_result and s.name in options
            and (s.keyed_at_default or options[s.name] != s.default)}
