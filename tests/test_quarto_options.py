"""Quarto's cell options: aliases, include/eval/warning, figure sizes, helpful errors."""

from __future__ import annotations

import re

import pytest
from execblog.engine.model import FenceKind
from execblog.engine.options import (
    FIG_FORMAT_OPTION,
    OptionError,
    kind_specs,
    parse_assignments,
    result_options,
    split_opener,
    take_option_lines,
    unsupported_options,
    validate,
)

PYTHON = FenceKind(name="python", language="python", run=lambda fence, session: None,
                   options=(FIG_FORMAT_OPTION,))
BASH = FenceKind(name="bash", language="bash", run=lambda fence, session: None,
                 uses_backend=False)
DEFAULTS = {"timeout": 60, "backend": "auto"}


def options(raw: dict[str, str], kind: FenceKind = PYTHON) -> dict:
    return validate({k: (v, 7) for k, v in raw.items()}, kind_specs(kind), DEFAULTS)


def error(raw: dict[str, str], kind: FenceKind = PYTHON) -> str:
    with pytest.raises(OptionError) as caught:
        options(raw, kind)
    assert caught.value.line == 7
    return str(caught.value)


def test_quarto_names_land_under_the_canonical_name():
    got = options({"label": "fig-x", "fig-cap": "A caption", "fig-alt": "Alt text",
                   "code-fold": "true"})
    assert (got["id"], got["caption"], got["alt"], got["fold"]) == (
        "fig-x", "A caption", "Alt text", True)
    assert not {"label", "fig-cap", "fig-alt", "code-fold"} & set(got)
    assert options({"tbl-cap": "Timings"})["caption"] == "Timings"
    assert options({"code-fold": "show"})["fold"] == "show"
    assert options({"fold": "false"})["fold"] is False
    # the spelling never changes the cache key
    specs = kind_specs(PYTHON)
    assert result_options(options({"label": "a"}), specs) == result_options(
        options({"id": "a"}), specs)
    assert "bad value 'maybe' for option 'code-fold': expected true, false or show" in error(
        {"code-fold": "maybe"})


def test_an_alias_with_its_target_is_an_error():
    assert "give one of label or id" in error({"label": "a", "id": "b"})
    assert "give one of fig-cap or caption" in error({"fig-cap": "a", "caption": "b"})
    assert "give one of fig-cap or tbl-cap" in error({"fig-cap": "a", "tbl-cap": "b"})


def test_include_eval_warning_output_and_display_options():
    hidden = options({"include": "false", "echo": "true"})
    assert (hidden["echo"], hidden["output"], hidden["include"]) == (False, False, False)
    shown = options({})
    assert (shown["echo"], shown["output"], shown["eval"], shown["warning"]) == (
        True, True, True, True)
    assert shown["hl_lines"] == () and shown["layout-ncol"] == 1
    assert options({"eval": "false"})["eval"] is False
    assert options({"output": "asis"})["output"] == "asis"
    assert options({"output": "false"})["output"] is False
    assert options({"output": "html"})["output"] == "html"  # markdown-exec's html="1"
    assert "expected true, false, asis or html" in error({"output": "raw"})
    assert options({"hl_lines": "2 3"})["hl_lines"] == (2, 3)
    assert options({"hl_lines": "2-4 7"})["hl_lines"] == (2, 3, 4, 7)
    assert options({"hl_lines": "3,1"})["hl_lines"] == (1, 3)
    for bad in ("", "0", "4-2", "two"):
        assert "for option 'hl_lines'" in error({"hl_lines": bad})
    assert options({"layout-ncol": "2"})["layout-ncol"] == 2
    for bad in ("0", "7", "two"):
        assert "expected a whole number from 1 to 6" in error({"layout-ncol": bad})


def test_figure_sizes_and_what_enters_the_cache_key():
    got = options({"fig-width": "4", "fig-height": "2.5"})
    assert (got["fig-width"], got["fig-height"]) == (4.0, 2.5)
    assert "inches" in error({"fig-width": "wide"})
    assert "inches" in error({"fig-height": "0"})
    # only kinds that draw matplotlib figures (they declare fig-format) take sizes
    assert "unknown option 'fig-width'" in error({"fig-width": "4"}, BASH)
    specs = kind_specs(PYTHON)
    plain = result_options(options({}), specs)
    # new options at their defaults leave every existing cache key as it was
    assert not {"fig-width", "fig-height", "warning", "eval", "include"} & set(plain)
    assert result_options(options({"fig-width": "4"}), specs)["fig-width"] == 4.0
    assert result_options(options({"warning": "false"}), specs)["warning"] is False
    # display-only options never re-run anything
    for display in ({"hl_lines": "2"}, {"layout-ncol": "3"}, {"output": "asis"},
                    {"include": "false"}, {"eval": "false"}, {"code-fold": "show"}):
        assert result_options(options(display), specs) == plain


def test_unknown_options_suggest_the_nearest():
    message = error({"flod": "true"})
    assert message.startswith("unknown option 'flod'; did you mean 'fold'? valid options: ")
    valid = message.split("valid options: ")[1].split(", ")
    assert {"fold", "code-fold", "label", "fig-cap", "eval", "fig-width"} <= set(valid)
    assert valid == sorted(valid)
    assert "did you mean 'label'?" in error({"lable": "x"})
    assert "did you mean 'warning'?" in error({"warnings": "false"})
    assert "did you mean 'fig-cap'?" in error({"fig_cap": "x"})
    assert error({"colour": "red"}).startswith("unknown option 'colour'; valid options: ")


def test_unquoted_values_with_spaces_say_to_quote_them():
    words = split_opener("python exec caption=Singular values echo=false", 3)[2:]
    with pytest.raises(OptionError) as caught:
        parse_assignments(words, 3)
    assert str(caught.value) == (
        "option 'caption' has a value with spaces: quote it, caption=\"Singular values\"")
    assert caught.value.line == 3
    words = split_opener("python exec fig-cap=A long caption", 3)[2:]
    with pytest.raises(OptionError, match=r'fig-cap="A long caption"'):
        parse_assignments(words, 3)
    quoted = split_opener('python exec caption="Singular values" hl_lines="2 3"', 3)[2:]
    assert parse_assignments(quoted, 3) == {"caption": ("Singular values", 3),
                                            "hl_lines": ("2 3", 3)}
    with pytest.raises(OptionError, match="is not of the form key=value"):
        parse_assignments(["values"], 3)


def test_option_lines_take_quarto_names():
    body = ['#| label: fig-a', '#| fig-cap: "Two words"', "#| fig-width: 3", "x = 1"]
    raw, count = take_option_lines(body, 10)
    assert count == 3 and raw["fig-cap"] == ("Two words", 11)
    got = validate(raw, kind_specs(PYTHON), DEFAULTS)
    assert (got["id"], got["caption"], got["fig-width"]) == ("fig-a", "Two words", 3.0)


POST = """\
Title: Quarto words
Date: 2026-03-01

Intro.

```python exec
#| label: fig-wave
#| fig-cap: "A sine wave"
#| fig-alt: "One period of a sine"
#| fig-width: 4
#| fig-height: 3
import matplotlib.pyplot as plt
import numpy as np
x = np.linspace(0, 6.3, 50)
plt.plot(x, np.sin(x));
```

```python exec
#| code-fold: true
print("folded source")
```

```python exec
#| include: false
hidden = 41
print("never shown")
```

```python exec
#| eval: false
hidden += 1000
raise SystemExit("should not run")
```

```python exec
#| warning: false
import warnings
warnings.warn("quiet please")
print(hidden + 1)
```

```python exec
warnings.warn("loud warning")
```

```python exec label=fig-png fig-cap="Small" fig-alt="A small line" fig-format=png fig-width=2
plt.plot([1, 2, 3]);
```
"""


def test_quarto_options_in_a_strict_build(site):
    build = site({"posts/q.md": POST}, settings={"FENCES_STRICT": True})
    assert build.returncode == 0, build.log
    page = build.post("quarto-words")
    # include: false shows nothing: no block, or an empty one
    blocks = [b for b in page.select("div.fence") if b.get_text(strip=True)]
    assert len(blocks) == 6
    wave, folded, unevaluated, quiet, loud, png = blocks

    # label, fig-cap, fig-alt, fig-width/fig-height (SVG: inches at 96 CSS px)
    assert wave["id"] == "fig-wave"
    img = wave.select_one("figure img")
    assert img["alt"] == "One period of a sine"
    assert "A sine wave" in wave.select_one("figcaption").get_text()
    assert (img["width"], img["height"]) == ("384", "288")
    svg = (build.output / "posts/quarto-words" / img["src"]).resolve().read_text()
    assert re.search(r'<svg[^>]*width="288pt" height="216pt"', svg)

    # code-fold
    assert folded.select_one("details.fence-fold .fence-source")
    assert "folded source" in folded.select_one(".fence-outputs").get_text()

    # include: false ran (its value is used later: 42 below) and shows nothing
    assert "never shown" not in page.get_text() and "hidden = 41" not in page.get_text()

    # eval: false is shown, not run, not a failure, and its session goes on
    assert "should not run" in unevaluated.select_one(".fence-source").get_text()
    assert not unevaluated.select(".fence-outputs, .fence-error")
    assert "fence-failed" not in unevaluated["class"]

    # warning: false hides Python warnings; a fence without it shows them
    assert quiet.select_one(".fence-stdout").get_text().strip() == "42"
    assert not quiet.select(".fence-stderr") and "quiet please" not in build.log
    assert "UserWarning: loud warning" in loud.select_one(".fence-stderr").get_text()

    # the opener takes Quarto's names too; PNG sizes are 96 CSS px per inch, as SVG's
    assert png["id"] == "fig-png"
    img = png.select_one("figure img")
    assert (img["alt"], img["width"], img["height"]) == ("A small line", "192", "144")
    assert png.select_one("figcaption").get_text() == "Figure 2: Small"  # numbered by xrefs

    report = build.report
    statuses = [f["status"] for f in report["fences"]]
    assert statuses == ["ran", "ran", "ran", "not-run", "ran", "ran", "ran"]
    assert report["summary"]["not-run"] == 1 and report["summary"]["failed"] == 0
    assert report["fences"][3]["key"] == ""  # nothing read from or written to the cache

    again = site(settings={"FENCES_STRICT": True})
    assert again.returncode == 0, again.log
    assert [f["status"] for f in again.report["fences"]] == [
        "cached", "cached", "cached", "not-run", "cached", "cached", "cached"]


def test_option_lines_are_yaml():
    body = ["#| fig-cap:", '#|   - "First"', "#|   - Second", "#| fig-alt: |",
            "#|   Two lines,", "#|   of alt text.", "#| echo: false", "#| hl_lines: [2, 3]",
            "#| fig-width: 3", "#| fig-align: center", "x = 1"]
    raw, count = take_option_lines(body, 20)
    assert count == 10
    assert raw["fig-cap"] == ("[First, Second]", 20)
    assert raw["fig-alt"] == ("Two lines,\nof alt text.", 23)
    assert raw["echo"] == ("false", 26) and raw["hl_lines"] == ("[2, 3]", 27)
    kept, notes = unsupported_options(raw, kind_specs(PYTHON))
    assert notes == [(29, "Quarto option 'fig-align' is not supported and was ignored")]
    got = validate(kept, kind_specs(PYTHON), DEFAULTS)
    assert got["fig-subcap"] == ("First", "Second")  # a list of captions: one per figure
    assert (got["alt"], got["echo"], got["hl_lines"]) == ("Two lines,\nof alt text.", False,
                                                          (2, 3))
    assert "layout-ncol" in unsupported_options({"layout": ("[[1,1],[1]]", 3)},
                                                kind_specs(PYTHON))[1][0][1]
    assert options({"echo": "fenced"})["echo"] == "fenced"
    with pytest.raises(OptionError) as caught:
        take_option_lines(["#| label: fig-a", "#| fig-cap: [a, b", "x"], 5)
    assert "option lines are not YAML" in str(caught.value) and caught.value.line == 6
    with pytest.raises(OptionError, match="is not of the form"):
        take_option_lines(["#|label fig-a", "x"], 5)


def test_option_lines_yaml_cannot_read_keep_their_text():
    """A value with `: ` inside (a C or Rust signature) is not YAML; one `key: value` a line
    still reads it as written, while a value meant as YAML keeps YAML's error."""
    raw, count = take_option_lines(["//| export: f(x: *const f64, n: usize) -> f64",
                                    "//| echo: false", "fn f() {}"], 7, comment="//")
    assert count == 2
    assert raw == {"export": ("f(x: *const f64, n: usize) -> f64", 7), "echo": ("false", 8)}
    with pytest.raises(OptionError, match="not YAML"):
        take_option_lines(["#| export: f(x: int)", "#| fig-cap: [a, b", "x"], 1)
