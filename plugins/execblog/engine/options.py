"""Fence options: the table of DESIGN 3.1, parsing (opener and ``#|`` lines) and validation.

Quarto's cell option names are accepted as aliases (:data:`ALIASES`: ``label`` is ``id``,
``fig-cap`` is ``caption``...); the canonical name is what lands in ``fence.options`` (a
frozen :class:`FenceOptions`, read by attribute: ``fence.options.fig_subcap``), so a
fence's cache key is the same whichever spelling the author used.
"""

from __future__ import annotations

import datetime
import difflib
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn

import yaml

from .model import FenceOptions  # defined with the data model, which workers import
from .params import parse_defaults, parse_params
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
    """``true``, ``false``, Quarto's ``asis`` (Markdown the fence prints is part of the
    post) or ``html`` (what it prints is HTML, put into the page as it is: markdown-exec's
    ``html="1"``)."""
    if text.strip().lower() in ("asis", "html"):
        return text.strip().lower()
    try:
        return _bool(text)
    except ValueError:
        raise ValueError("expected true, false, asis or html") from None


def _echo(text: str) -> bool | str:
    """``true``, ``false`` or Quarto's ``fenced`` (the source with its opener and ``#|``
    lines, as written)."""
    if text.strip().lower() == "fenced":
        return "fenced"
    try:
        return _bool(text)
    except ValueError:
        raise ValueError("expected true, false or fenced") from None


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
    items = [w for w in re.split(r"[,\s]+", text.strip().removeprefix("[").removesuffix("]"))
             if w]  # (a YAML list: [2, 3])
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
    items = tuple(p for p in re.split(r"[,\s]+", text.strip().removeprefix("[")
                                      .removesuffix("]")) if p)
    if not items:
        raise ValueError("expected one or more file paths")
    return items


# Where ``source`` puts the source (markdown-exec's values; material-block is block).
SOURCE_PLACES = ("above", "below", "block", "material-block", "tabbed-left", "tabbed-right",
                 "console")
# Options every kind takes.
COMMON_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("echo", _echo, True, False, "show the source (fenced: with its opener)"),
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
    OptionSpec("source", choice(*SOURCE_PLACES), "above", False,
               "where the source is shown: above, below, block, tabbed-left, tabbed-right, "
               "console"),
    OptionSpec("tabs", _text, "Source|Result", False, "titles of the tabbed panes"),
    OptionSpec("title", _text, "", False, "title shown over the source"),
    OptionSpec("result", pattern(r"[\w#.+-]{1,64}", "a language name"), "", False,
               "text outputs as a code block highlighted as this language"),
    OptionSpec("syntax", pattern(r"[\w#.+-]{1,64}", "a language name"), "", False,
               "the language the source is highlighted as (pycon, console...)"),
    OptionSpec("idprefix", pattern(r"[\w:.-]{0,64}", "letters, digits, _ : . - or nothing"),
               None, False, "prefix of the ids of headings a fence's Markdown output makes"),
)
# Quarto's names -> ours. Either spelling works; giving both is an error.
ALIASES: dict[str, str] = {
    "label": "id",
    "fig-cap": "caption",
    "tbl-cap": "caption",
    "fig-alt": "alt",
    "code-fold": "fold",
    # knitr's dotted spellings, which Quarto reads in any cell (its crossref tests use them)
    "fig.cap": "caption",
    "fig.subcap": "fig-subcap",
    "layout.ncol": "layout-ncol",
}
# Taken by kinds that run on an array backend (``FenceKind.uses_backend``).
BACKEND_OPTION = OptionSpec("backend", pattern(r"[\w.-]{1,64}", "a backend name"), None, True,
                            "auto or a registered backend name")
# Taken by kinds whose code binds names as Python does (the python kind declares them):
# a parameter grid (fences.params). Keyed per state by the engine (fences.params.state_key),
# not as options: adding a value to a list keeps every state already run.
PARAMS_OPTIONS = (
    OptionSpec("params", parse_params, None, False,
               "run once per combination of these values ({name: [v, ...]})"),
    OptionSpec("params-default", parse_defaults, None, False,
               "the state the page, feeds and notebook show ({name: value}; default: firsts)"),
)
# Taken by kinds whose code draws matplotlib figures (the python kind declares it).
FIG_FORMAT_OPTION = OptionSpec("fig-format", choice("auto", "svg", "png"), "auto", True,
                               "auto (PNG for heavy figures, else SVG), svg or png (2x)")


def _subcaptions(text: str) -> tuple[str, ...] | bool:
    """Quarto's ``fig-subcap``: a YAML list of captions, one per figure, or ``true``."""
    items = yaml_list(text)
    if items is not None:
        return tuple(items)
    try:
        return _bool(text)
    except ValueError:
        raise ValueError("expected a list of captions, e.g. [\"First\", \"Second\"], "
                         "or true") from None


# Figure sizes in inches, as in Quarto; a kind that declares ``fig-format`` takes them too.
FIG_SIZE_OPTIONS = (
    OptionSpec("fig-width", _inches, None, True, "figure width in inches",
               keyed_at_default=False),
    OptionSpec("fig-height", _inches, None, True, "figure height in inches",
               keyed_at_default=False),
    OptionSpec("fig-subcap", _subcaptions, (), False,
               "sub-figure captions, one per figure ([a, b]; true: (a), (b) only)"),
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
    """Read the leading ``#| key: value`` lines (``//|`` where the kind's line comment is
    ``//``) as YAML, as Quarto does: lists (``#| fig-cap: ["a", "b"]`` or ``#|   - a``
    lines), block values (``#| fig-cap: |`` and indented lines), booleans. Return
    {key: (value as text, line)} and how many lines they span. A list or mapping comes
    back as YAML flow text (``[a, b]``), which ``yaml.safe_load`` reads back."""
    mark = f"{comment}|"
    count = 0
    while count < len(body) and body[count].startswith(mark):
        count += 1
    if not count:
        return {}, 0
    texts = [line[len(mark):].removeprefix(" ") for line in body[:count]]
    try:
        loaded = yaml.safe_load("\n".join(texts))
    except yaml.YAMLError as exc:
        loaded = _plain_lines(texts)  # one `key: value` a line, values YAML cannot read
        if loaded is None:
            _not_yaml(exc, mark, first_line, count)
    if loaded is None:
        return {}, count
    if not isinstance(loaded, dict):
        raise OptionError(f"option line {body[0]!r} is not of the form '{mark} key: value'",
                          first_line)
    starts = {}
    for offset, text in enumerate(texts):
        key = re.match(r"([^\s:#][^:]*?)\s*:(?:\s|$)", text)
        if key:
            starts.setdefault(key[1].strip("'\""), first_line + offset)
    found: dict[str, tuple[str, int]] = {}
    for key, value in loaded.items():
        found[str(key)] = (yaml_text(value), starts.get(str(key), first_line))
    return found, count


def _plain_lines(texts: list[str]) -> dict[str, Any] | None:
    """Option lines that are each ``key: value``, read one by one: a value YAML cannot read
    (a C signature such as ``f(x: *const f64) -> f64``) is its text as written. None when a
    line is not of that form (a block value or list spanning lines)."""
    found: dict[str, Any] = {}
    for text in texts:
        match = re.match(r"([^\s:#][^:]*?)\s*:(?:\s+(.*))?$", text)
        if not match:
            return None
        value = (match[2] or "").strip()
        try:
            found[match[1]] = yaml.safe_load(value) if value else None
        except yaml.YAMLError:
            if value[0] in "[{|>\"'":  # meant as YAML: its error is the one to show
                return None
            found[match[1]] = value
    return found


def _not_yaml(exc: yaml.YAMLError, mark: str, first_line: int, count: int) -> NoReturn:
    where = getattr(exc, "problem_mark", None)
    line = first_line + (where.line if where is not None else 0)
    problem = getattr(exc, "problem", None) or str(exc)
    raise OptionError(f"option lines are not YAML ({problem}): write "
                      f"'{mark} key: value'", min(line, first_line + count - 1)) from exc


def yaml_text(value: Any) -> str:
    """A YAML value as the text an option parses: ``true``/``false``, numbers, strings as
    they are, nothing as an empty string, lists and mappings as YAML flow text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.rstrip("\n")  # a block value (``|``) ends with a newline
    if isinstance(value, int | float | datetime.date):
        return str(value)
    return yaml.safe_dump(value, default_flow_style=True, width=10**9, allow_unicode=True,
                          sort_keys=False).strip().removesuffix("...").strip()


def yaml_list(text: str) -> list[str] | None:
    """The items of an option value written as a YAML list (``[a, b]``), else None."""
    if not text.lstrip().startswith("["):
        return None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return [yaml_text(v) for v in value] if isinstance(value, list) else None


# Quarto cell options with no equivalent here: a warning (an error in strict builds) names
# them and says what to write instead, and the fence runs without them.
QUARTO_UNSUPPORTED: dict[str, str] = {
    **dict.fromkeys(("fig-align", "fig-env", "fig-pos", "fig-scap", "fig-link", "fig-dpi",
                     "fig-asp", "fig-responsive", "fig-column", "fig-cap-location",
                     "tbl-colwidths", "tbl-column", "tbl-cap-location", "classes",
                     "class-output", "class-source", "attr-output", "attr-source",
                     "column", "panel", "code-summary", "code-overflow",
                     "code-copy", "code-tools", "lst-label", "lst-cap",
                     "output-location", "layout-align", "layout-valign", "message",
                     "results", "comment", "prompt", "collapse", "cap-location",
                     "tbl-subcap"), ""),
    "layout": "layout-ncol=N for figures side by side",
    "layout-nrow": "layout-ncol=N for figures side by side",
    "code-line-numbers": "hl_lines=\"2 3\" to highlight lines",
    "freeze": "the fence cache (cache=false to run every build)",
}


def unsupported_options(
    raw: dict[str, tuple[str, int]], specs: Iterable[OptionSpec]
) -> tuple[dict[str, tuple[str, int]], list[tuple[int, str]]]:
    """Take out of ``raw`` the Quarto options that no spec (nor alias) takes: the rest,
    and (line, message) for each taken out. A list of captions (``fig-cap: [a, b]``, one
    per figure) becomes ``fig-subcap`` where a kind takes it, else one caption."""
    names = {spec.name for spec in specs}
    accepted = names | {alias for alias, target in ALIASES.items() if target in names}
    kept: dict[str, tuple[str, int]] = {}
    notes: list[tuple[int, str]] = []
    for name, (text, line) in raw.items():
        captions = yaml_list(text) if ALIASES.get(name, name) == "caption" else None
        if captions is not None:
            if "fig-subcap" in names and "fig-subcap" not in raw:
                kept["fig-subcap"] = (text, line)
            else:
                kept[name] = ("; ".join(captions), line)
            continue
        if name in accepted or name not in QUARTO_UNSUPPORTED:
            kept[name] = (text, line)
            continue
        hint = QUARTO_UNSUPPORTED[name]
        notes.append((line, f"Quarto option {name!r} is not supported and was ignored"
                            + (f": write {hint}" if hint else "")))
    return kept, notes


def validate(
    raw: dict[str, tuple[str, int]], specs: Iterable[OptionSpec], defaults: dict[str, Any]
) -> FenceOptions:
    """Check every option against ``specs``; unknown names and bad values raise OptionError.

    Quarto's names (:data:`ALIASES`) are read as the option they stand for; giving both
    spellings is an error. ``include=false`` turns ``echo`` and ``output`` off. The result
    has one entry per spec (its parsed value or default), nothing else.
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
    return FenceOptions(options)


def unknown_option(name: str, accepted: Iterable[str]) -> str:
    """``unknown option 'flod'; did you mean 'fold'? valid options: ...``"""
    names = sorted(accepted)
    dashed = re.sub(r"[_.]", "-", name)  # fig_cap: fig-cap, before knitr's fig.cap
    near = [dashed] if dashed in names else difflib.get_close_matches(name, names, n=1,
                                                                      cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else ";"
    return f"unknown option {name!r}{hint} valid options: {', '.join(names)}"


def result_options(options: Mapping[str, Any], specs: Iterable[OptionSpec]) -> dict[str, Any]:
    """The subset of options that changes what a fence produces (part of the cache key)."""
    return {s.name: options[s.name] for s in specs
            if s.affects_result and s.name in options
            and (s.keyed_at_default or options[s.name] != s.default)}
