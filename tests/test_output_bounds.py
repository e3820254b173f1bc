"""Bounded outputs, terminal text (progress bars, escape codes) and broken display values.

Pure functions are tested directly; the rest through one real Pelican build whose pages and
feed are parsed (BeautifulSoup, feedparser).
"""

from __future__ import annotations

import base64
import json
import re

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import run_pelican, write_files
from execblog.display.html import truncated_notice
from execblog.display.protocol import png_bytes
from execblog.engine.bounds import (
    MAX_LINE_CHARS,
    MAX_OUTPUT_CHARS,
    bound_line,
    bound_output,
    cut_note,
)
from execblog.engine.model import ERROR, STREAM, Output
from execblog.engine.render import terminal_text, xml_safe

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
TEN_MB = 10_000_000


# -- pure functions ------------------------------------------------------------------------------
def test_text_outputs_are_cut_in_place_with_their_length():
    out = bound_output(Output(ERROR, "e" * (MAX_OUTPUT_CHARS + 5), {"ename": "ValueError"}))
    assert out.mime == ERROR and len(out.data) == MAX_OUTPUT_CHARS
    assert out.meta == {"ename": "ValueError", "truncated": MAX_OUTPUT_CHARS + 5,
                        "truncated_unit": "characters"}
    small = Output("text/plain", "fine")
    assert bound_output(small) is small


def test_cut_outputs_are_named_for_the_log():
    html = bound_output(Output("text/html", "<p>" * 30_000))
    assert cut_note(html) == "text/html was cut at 50,000 characters (it had 90,000 characters)"
    stream = Output(STREAM, "x", {"name": "stdout", "truncated": 72_000})
    assert cut_note(stream) == "stdout was cut at 50,000 characters (it had 72,000 bytes)"


@pytest.mark.parametrize("mime", ["text/html", "text/markdown", "image/svg+xml"])
def test_oversized_markup_becomes_escaped_text(mime):
    data = "<div>" + "y" * 2_000_000 + "</div>"
    out = bound_output(Output(mime, data))
    assert out.mime == "text/plain" and out.data == data[:MAX_OUTPUT_CHARS]
    assert out.meta == {"truncated": len(data), "truncated_unit": "characters",
                        "truncated_from": mime}


def test_inline_svg_has_room_for_large_diagrams_and_bytes_are_left_alone():
    svg = Output("image/svg+xml", "<svg>" + "p" * 200_000 + "</svg>", {"diagram": True})
    assert bound_output(svg) is svg
    png = Output("image/png", b"\x89PNG" + b"0" * TEN_MB)
    assert bound_output(png) is png


def test_log_lines_are_cut_with_a_note():
    assert bound_line("short") == "short"
    cut = bound_line("w" * TEN_MB)
    assert cut == "w" * MAX_LINE_CHARS + "… [truncated: 10,000,000 characters]"
    assert len(cut) < 1_000


def test_truncation_notice_names_what_was_cut():
    stream = Output(STREAM, "", {"name": "stderr", "truncated": 123_456})
    assert "stderr had 123,456 bytes" in truncated_notice(stream)
    html = bound_output(Output("text/html", "<b>" * 30_000))
    assert "Output truncated: the HTML had 90,000 characters." in truncated_notice(html)
    assert truncated_notice(Output("text/plain", "x")) == ""


def test_progress_bar_ends_as_its_last_state():
    bar = "".join(f"\r{p:3d}%|{'#' * (p // 10):<10}|" for p in range(0, 101, 10)) + "\n"
    assert terminal_text("start\n" + bar + "done") == "start\n100%|##########|\ndone"
    assert terminal_text("abcdef\rXY") == "XYcdef"  # overwrites from column 0, keeps the rest
    assert terminal_text("a\r\nb\r\n") == "a\nb\n"  # CRLF is a newline
    assert terminal_text("line\r") == "line"


def test_escape_sequences_are_removed_keeping_visible_text():
    colours = "\x1b[1;31mred\x1b[0m \x1b[38;5;208morange\x1b[m \x1b[2K\x1b[1Aup"
    assert terminal_text(colours) == "red orange up"
    link = "see \x1b]8;;https://example.org\x1b\\the docs\x1b]8;;\x1b\\ now"
    assert terminal_text(link) == "see the docs now"
    assert terminal_text("\x1b]0;window title\x07text\x1b(B") == "text"
    assert terminal_text("a\x1b]2;never closed\nb") == "a\nb"  # stops at the line's end


def test_xml_safe_uses_the_feed_definition():
    assert xml_safe("a\x00b\x0bc\x1bd\x85e\ud800f\ufffe\tg\n") == "abcdef\tg\n"


def test_png_bytes_accepts_png_only():
    assert png_bytes(PNG) == PNG
    assert png_bytes(bytearray(PNG)) == PNG
    b64 = base64.b64encode(PNG).decode()
    assert png_bytes(b64) == PNG
    assert png_bytes(b64[:40] + "\n" + b64[40:]) == PNG  # wrapped base64
    assert png_bytes(b"GIF89a not a png") is None
    assert png_bytes("!!! not base64 !!!") is None
    assert png_bytes(base64.b64encode(b"plain text").decode()) is None
    assert png_bytes(42) is None


# -- a real build -----------------------------------------------------------------------------
HEAD = "Title: {title}\nDate: 2026-03-0{day}\n\n"

HUGE = """\
```python exec
"x" * 10_000_000
```

```python exec
class Big:
    def _repr_html_(self):
        return "<table><tr><td>" + "y" * 10_000_000 + "</td></tr></table>"

Big()
```

```python exec error=true
raise ValueError("z" * 10_000_000)
```

```python exec
import logging
logging.getLogger("fences.author").warning("w" * 10_000_000)
```
"""

TERMINAL = """\
```python exec
import sys
from tqdm import tqdm
for _ in tqdm(range(40), file=sys.stderr, ascii=True, mininterval=0, miniters=1):
    pass
```

```python exec
print("\\x1b[1;31mred\\x1b[0m \\x1b]8;;https://example.org\\x1b\\\\the docs\\x1b]8;;\\x1b\\\\ "
      "\\x1b]0;a title\\x07done\\r\\nnext")
```
"""

BROKEN = f"""\
```python exec
class BytesHTML:
    def _repr_html_(self):
        return b"<b>bytes</b>"
    def __repr__(self):
        return "BytesHTML()"
BytesHTML()
```

```python exec
class NumberSVG:
    def _repr_svg_(self):
        return 42
    def __repr__(self):
        return "NumberSVG()"
NumberSVG()
```

```python exec
class GarbagePNG:
    def _repr_png_(self):
        return b"GIF89a, not a PNG"
    def __repr__(self):
        return "GarbagePNG()"
GarbagePNG()
```

```python exec
class TextPNG:
    def _repr_png_(self):
        return "this is not base64 at all!"
    def __repr__(self):
        return "TextPNG()"
TextPNG()
```

```python exec
class Raising:
    def _repr_html_(self):
        raise RuntimeError("no html today")
    def _repr_markdown_(self):
        return "**markdown wins**"
    def __repr__(self):
        return "Raising()"
Raising()
```

```python exec
import base64
class GoodPNG:
    def _repr_html_(self):
        return None
    def _repr_png_(self):
        return base64.b64encode(bytes.fromhex("{PNG.hex()}")).decode()
GoodPNG()
```
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("bounds")
    posts = {"huge": HUGE, "terminal": TERMINAL, "broken": BROKEN}
    files = {f"posts/{name}.md": HEAD.format(title=name.title(), day=i + 1) + body
             for i, (name, body) in enumerate(posts.items())}
    write_files(base / "content", files)
    cache = base / "cache"
    proc = run_pelican(base / "content", base / "out", settings={"FENCES_CACHE_PATH": str(cache)})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log

    def page(slug: str) -> BeautifulSoup:
        return BeautifulSoup((base / "out/posts" / slug / "index.html").read_text(), "html.parser")

    feed = feedparser.parse((base / "out/feeds/all.atom.xml").read_bytes(), sanitize_html=False,
                            resolve_relative_uris=False)
    entries = {e.title: BeautifulSoup(e.content[0].value, "html.parser") for e in feed.entries}
    return {"log": log, "page": page, "feed": entries, "base": base, "cache": cache}


def _openers(body: str) -> list[int]:
    """Post lines of the fence openers in ``body`` (after the 3 header lines)."""
    return [i + 4 for i, line in enumerate(body.splitlines()) if line.startswith("```python")]


def _notices(soup: BeautifulSoup) -> list[str]:
    return [p.get_text(" ", strip=True) for p in soup.select("p.fence-truncated")]


def test_huge_values_are_cut_with_a_notice_in_page_and_feed(built):
    for soup in (built["page"]("huge"), built["feed"]["Huge"]):
        value, html = (pre.text for pre in soup.select("pre.fence-text"))
        assert value == "'" + "x" * (MAX_OUTPUT_CHARS - 1)
        assert html.startswith("<table><tr><td>yyy") and len(html) == MAX_OUTPUT_CHARS
        assert not soup.select("div.fence-html")  # the cut markup is never inlined
        assert len(soup.select_one("pre.fence-traceback").text) <= MAX_OUTPUT_CHARS
        value_note, html_note, error_note = _notices(soup)
        assert value_note == "Output truncated: the value had 10,000,002 characters."
        assert html_note == "Output truncated: the HTML had 10,000,033 characters."
        assert re.fullmatch(r"Output truncated: the error had 10,000,\d{3} characters\.",
                            error_note)
    page = (built["base"] / "out/posts/huge/index.html").stat().st_size
    assert page < 500_000


def test_cache_never_holds_the_huge_values(built):
    stored = [p for d in ("entries", "blobs") for p in (built["cache"] / d).rglob("*")
              if p.is_file()]
    assert stored
    assert sum(p.stat().st_size for p in stored) < 1_000_000


def test_huge_log_record_is_one_short_line(built):
    lines = [ln for ln in built["log"].splitlines() if "wwww" in ln]
    assert len(lines) == 1, lines
    line = _openers(HUGE)[3]
    assert re.search(rf"posts/huge\.md:{line}: warning: w+… \[truncated: 10,000,000 characters\]$",
                     lines[0]), lines[0][:200]
    assert len(lines[0]) < 1_100


def test_error_message_is_bounded_in_the_report(built):
    report = json.loads((built["cache"] / "report.json").read_text())
    (entry,) = [f for f in report["fences"] if f["status"] == "expected-error"]
    assert entry["message"].startswith("ValueError: zzz")
    assert len(entry["message"]) <= MAX_LINE_CHARS + 50


def test_progress_bar_and_escape_codes_render_as_a_terminal_shows_them(built):
    for soup in (built["page"]("terminal"), built["feed"]["Terminal"]):
        bar = soup.select_one("pre.fence-stderr").text
        assert bar.count("\n") == 1 and bar.endswith("\n"), repr(bar)
        assert bar.startswith("100%|##########| 40/40"), repr(bar)
        assert "\r" not in bar
        out = soup.select_one("pre.fence-stdout").text
        assert out == "red the docs done\nnext\n"


def test_broken_display_values_fall_back_and_are_warned(built):
    soup = built["page"]("broken")
    texts = [pre.text for pre in soup.select("pre.fence-text")]
    assert texts == ["BytesHTML()", "NumberSVG()", "GarbagePNG()", "TextPNG()"]
    assert "b'<b>" not in str(soup) and "<b>bytes</b>" not in str(soup)
    assert soup.select_one("div.fence-markdown strong").text == "markdown wins"
    (img,) = soup.select("figure.fence-figure img")
    src = built["base"] / "out/posts/broken" / img["src"]
    assert src.read_bytes() == PNG
    log = built["log"]
    problems = [r"BytesHTML\._repr_html_ returned bytes of length 12, not str",
                r"NumberSVG\._repr_svg_ returned int, not str",
                r"GarbagePNG\._repr_png_ returned bytes of length 17, not PNG data",
                r"TextPNG\._repr_png_ returned str of length 26, not PNG data",
                r"Raising\._repr_html_ raised RuntimeError: no html today"]
    for line, what in zip(_openers(BROKEN), problems, strict=False):
        assert re.search(rf"posts/broken\.md:{line}: warning: display: {what}; showing the next "
                         r"representation", log), (line, log)
    assert "GoodPNG" not in log
