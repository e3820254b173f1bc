"""Callouts (plugins/execblog/markdown/callouts): GitHub's `> [!NOTE]` and `!!! note` admonitions,
in a real build and its feed, plus the contrast of the theme's callout colours."""

from __future__ import annotations

import re

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, Build, run_pelican, write_files
from execblog.markdown.callouts import parse_marker

POST = r"""
Title: Callouts
Date: 2026-01-01
Slug: callouts

Intro paragraph.

> [!NOTE]
> A note with `inline code` and math $x^2$:
>
> - first item
> - second item

> [!tip]
> Lower-case marker.

> [!IMPORTANT]
> Important body.

> [!WARNING]
> Warning body.

> [!CAUTION] Custom *title*
> Caution body.

> [!FOO]
> Unknown marker stays a quote.

Between the quotes.

> Plain quote, no marker.

!!! note "Admonition title"
    Admonition body with `code`.

!!! danger
    Danger body.

- A list item

    > [!TIP]
    > Tip inside a list.

```python exec
print("RAN-AFTER-CALLOUT")
```

```text
> [!NOTE]
> FENCED-BACKTICKS
```

~~~
> [!WARNING]
~~~

```python exec
print("> [!IMPORTANT]")
```

END-MARK
"""


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("callouts")
    content, out, cache = tmp / "content", tmp / "output", tmp / "cache"
    write_files(content, {"posts/callouts.md": POST})
    proc = run_pelican(content, out, settings={"FENCES_CACHE_PATH": str(cache)})
    b = Build(proc.returncode, proc.stdout + proc.stderr, out, content, cache)
    assert b.returncode == 0, b.log
    return b


def _callouts(root) -> list[tuple[str, str]]:
    return [
        (" ".join(div["class"]), div.select_one("p.admonition-title").get_text())
        for div in root.select("div.admonition")
    ]


EXPECTED = [
    ("admonition note", "Note"),
    ("admonition tip", "Tip"),
    ("admonition important", "Important"),
    ("admonition warning", "Warning"),
    ("admonition caution", "Custom title"),
    ("admonition note", "Admonition title"),
    ("admonition danger", "Danger"),
    ("admonition tip", "Tip"),
]


def test_page(build) -> None:
    body = build.post("callouts").select_one(".post-content")
    assert _callouts(body) == EXPECTED
    divs = body.select("div.admonition")
    # Same HTML for both syntaxes: title first, bold, then the body's own Markdown.
    for div in divs:
        title = div.find(True)
        assert title.name == "p" and title["class"] == ["admonition-title"]
        assert [c.name for c in title.find_all(True, recursive=False)] == ["strong"]
    note = divs[0]
    assert [li.get_text() for li in note.select("ul > li")] == ["first item", "second item"]
    assert note.select_one("p code").get_text() == "inline code"
    assert note.select_one(".math") is not None  # render_math saw $x^2$
    assert "[!NOTE]" not in note.get_text()
    assert divs[4].select_one(".admonition-title em").get_text() == "title"
    assert divs[5].select_one("p:not(.admonition-title) code").get_text() == "code"
    assert divs[7].find_parent("li") is not None
    assert divs[7].select_one("p:not(.admonition-title)").get_text() == "Tip inside a list."
    # Unknown marker and plain quotes stay blockquotes.
    quotes = [" ".join(q.get_text().split()) for q in body.select("blockquote")]
    assert quotes == ["[!FOO] Unknown marker stays a quote.", "Plain quote, no marker."]
    # Fences are never transformed: plain ones keep the marker text, exec ones run.
    text = body.get_text()
    assert "> [!NOTE]\n> FENCED-BACKTICKS" in text and "> [!WARNING]" in text
    assert "RAN-AFTER-CALLOUT" in text and "> [!IMPORTANT]" in text
    assert build.statuses() and set(build.statuses()) <= {"ran", "cached"}, build.statuses()
    assert "END-MARK" in text


def test_feed_entry_keeps_title_and_body(build) -> None:
    feed = feedparser.parse(str(build.output / "feeds/all.atom.xml"), sanitize_html=False,
                            resolve_relative_uris=False)
    assert not feed.bozo, feed.get("bozo_exception")
    (entry,) = feed.entries
    soup = BeautifulSoup(entry.content[0].value, "html.parser")
    assert _callouts(soup) == EXPECTED
    note = soup.select_one("div.admonition.note")
    # Without CSS the title is still a bold first line, followed by the body.
    assert note.select_one("p.admonition-title > strong").get_text() == "Note"
    assert [li.get_text() for li in note.select("li")] == ["first item", "second item"]
    assert note.select_one("code").get_text() == "inline code"
    assert note.find("math") is not None  # feedkit turned the TeX into MathML


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[!NOTE]", ("note", "Note")),
        ("[!note]  ", ("note", "Note")),
        ("[!Caution]", ("caution", "Caution")),
        ("[!TIP] Faster `x`", ("tip", "Faster `x`")),
        ("[!FOO]", None),
        ("[!NOTE]trailing", None),
        ("[NOTE]", None),
        ("Text [!NOTE]", None),
    ],
)
def test_parse_marker(line: str, expected) -> None:
    assert parse_marker(line) == expected


# ---- contrast of the callout title colours against the theme's backgrounds ----

def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _mix(a: str, b: str, share: float) -> str:
    """color-mix(in srgb, a share, b)."""
    pa = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    pb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = (round(x * share + y * (1 - share)) for x, y in zip(pa, pb, strict=True))
    return "#" + "".join(f"{c:02x}" for c in mixed)


def _vars(css: str, selector: str) -> dict[str, str]:
    block = re.search(re.escape(selector) + r"\s*\{(.*?)\}", css, re.S)
    assert block, selector
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-f]{6})", block.group(1)))


def test_title_contrast_in_both_themes() -> None:
    main = (ROOT / "plugins/execblog/theme/static/css/main.css").read_text(encoding="utf-8")
    css = (ROOT / "plugins/execblog/theme/static/css/authoring.css").read_text(encoding="utf-8")
    section = css.split("/* == callouts", 1)[1].split("/* == ", 1)[0]
    tint = float(re.search(r"var\(--callout-accent\) (\d+)%", section).group(1)) / 100
    media_dark = section.split("@media (prefers-color-scheme: dark)", 1)[1]
    assert _vars(media_dark, ':root:not([data-theme="light"])') == _vars(
        section, '[data-theme="dark"]'
    )
    themes = {
        "light": (_vars(main, ":root"), _vars(section, ":root")),
        "dark": (_vars(main, '[data-theme="dark"]'), _vars(section, '[data-theme="dark"]')),
    }
    for name, (page, callout) in themes.items():
        assert set(callout) == {f"callout-{k}" for k in
                                ("note", "tip", "important", "warning", "caution")}
        for background in {page["theme"], page["entry"]}:
            for var, colour in callout.items():
                for bg in (background, _mix(colour, background, tint)):
                    assert _contrast(colour, bg) >= 4.5, (name, var, colour, bg)


def test_every_admonition_type_has_an_accent() -> None:
    css = (ROOT / "plugins/execblog/theme/static/css/authoring.css").read_text(encoding="utf-8")
    section = css.split("/* == callouts", 1)[1].split("/* == ", 1)[0]
    for kind in ("tip", "hint", "important", "warning", "attention", "caution", "danger",
                 "error"):
        assert re.search(rf"\.admonition\.{kind}\b[^{{]*\{{", section), kind


def test_quarto_callout_divs_render_as_github_callouts() -> None:
    """Quarto's ``::: {.callout-warning}`` (execblog.markdown.pandoc) and ``> [!WARNING]`` share one
    rendering (``callout_box``): the same markup, title from a heading or ``title=``."""
    import markdown

    def html(text: str) -> str:
        md = markdown.Markdown(extensions=["extra", "execblog.markdown.callouts",
                                           "execblog.markdown.pandoc"])
        return md.convert(text)

    github = html("> [!WARNING] Hot *stove*\n> Body.\n")
    assert github.startswith('<div class="admonition warning">\n<p class="admonition-title">'
                             "<strong>Hot <em>stove</em></strong></p>")
    assert html("::: {.callout-warning}\n## Hot *stove*\nBody.\n:::\n") == github
    assert html('::: {.callout-warning title="Hot stove"}\nBody.\n:::\n') == html(
        "> [!WARNING] Hot stove\n> Body.\n")
    plain = html("::: {.callout-note}\nNo title.\n:::\n")
    assert "<strong>Note</strong>" in plain and "No title." in plain
    # a class that is no callout kind keeps its content in a plain div
    assert html("::: {.callout-other}\nKept.\n:::\n") == (
        '<div class="callout-other">\n<p>Kept.</p>\n</div>')
