"""Bad input: every failure is located, contained to its session, and never cached."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup
from conftest import cupy_usable, run_pelican, write_files

HEAD = "Title: {t}\nDate: 2026-02-0{d}\n\n"

BAD = {
    "exception": ("```python exec\nx = 1\nraise ValueError('bad thing')\n```\n", 6,
                  "ValueError: bad thing"),
    "syntax": ("```python exec\nprint('ok')\ndef f(:\n    pass\n```\n", 6, "SyntaxError"),
    "loop": ("```python exec timeout=1\nwhile True:\n    pass\n```\n", 4, "timed out after 1 s"),
    "segfault": ("```python exec\nimport ctypes\nctypes.string_at(0)\n```\n", 4, "SIGSEGV"),
    "exit": ("```python exec\nimport os\nos._exit(3)\n```\n", 4, "exited with status 3"),
    "memory": ("```python exec\nblob = bytearray(10**15)\n```\n", 5, "MemoryError"),
    "unknown": ("```python exec colour=red\n1\n```\n", 4,
                "unknown option 'colour'; valid options: alt, backend, cache, caption"),
    "badvalue": ("```python exec\n#| timeout: soon\n1\n```\n", 5,
                 "bad value 'soon' for option 'timeout'"),
    "unterminated": ("```python exec\nprint(1)\n", 4, "unterminated fence"),
}
CUPY_POST = "```python exec backend=cupy\nxp.ones(3)\n```\n"  # built on every machine
if not cupy_usable():  # where CuPy runs, backend=cupy is no error (see test_cupy_request...)
    BAD["cupy"] = (CUPY_POST, 4, "backend=cupy")


def post(name: str, day: int, body: str) -> str:
    return HEAD.format(t=name, d=day) + body


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("fail")
    files = {f"posts/{name}.md": post(name, 1, body) for name, (body, _, _) in BAD.items()}
    files["posts/cupy.md"] = post("cupy", 1, CUPY_POST)
    files["posts/good.md"] = post("good", 2, "Fine.\n\n```python exec\nprint('still here')\n```\n")
    files["posts/after.md"] = post(
        "after", 3,
        "```python exec\nraise KeyError('x')\n```\n\n```python exec\nprint('never')\n```\n\n"
        "```python exec error=true\n1/0\n```\n",
    )
    files["posts/escape.md"] = post(
        "escape", 4,
        "```python exec\nprint('<script>alert(1)</script> & \\x1b[31mred\\x1b[0m \\x07\\x0b\\x00!')"
        "\n```\n\n```python exec\nprint('y' * 200_000)\n```\n",
    )
    write_files(base / "content", files)
    cache = base / "cache"
    proc = run_pelican(base / "content", base / "out", settings={"FENCES_CACHE_PATH": str(cache)})

    def page(slug):
        return BeautifulSoup((base / "out/posts" / slug / "index.html").read_text(), "html.parser")

    report = json.loads((cache / "report.json").read_text())
    return {"proc": proc, "log": proc.stdout + proc.stderr, "page": page, "base": base,
            "report": report, "cache": cache}


def test_development_build_finishes_with_exit_zero(built):
    assert built["proc"].returncode == 0, built["log"]
    assert built["page"]("good").select_one("pre.fence-stdout").text == "still here\n"


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_input_is_located_in_log_and_page(built, name):
    _, line, needle = BAD[name]
    log = re.sub(r"\s+", " ", built["log"])
    assert re.search(rf"posts/{name}\.md:{line}: error", log), log
    block = built["page"](name).select_one("div.fence-error[role=alert]")
    assert block is not None
    assert block.select_one("p.fence-error-where").text.endswith(f"posts/{name}.md:{line}")
    assert needle in block.text
    (entry,) = [f for f in built["report"]["fences"] if f["source"] == f"posts/{name}.md"]
    expected = {"loop": "timeout", "segfault": "crashed", "exit": "crashed"}.get(name, "failed")
    assert entry["status"] == expected


def test_cupy_request_is_an_error_only_where_cupy_cannot_run(built):
    (entry,) = [f for f in built["report"]["fences"] if f["source"] == "posts/cupy.md"]
    page = built["page"]("cupy")
    if cupy_usable():
        assert entry["status"] == "ran" and entry["backend"] == "cupy"
        assert page.select_one("div.fence-error") is None
        assert page.select_one("pre.fence-text").text == "array([1., 1., 1.])"
    else:
        assert entry["status"] == "failed"
        assert "backend=cupy" in page.select_one("div.fence-error[role=alert]").text


def test_traceback_is_trimmed_to_the_post(built):
    tb = built["page"]("exception").select_one("pre.fence-traceback").text
    assert 'File "posts/exception.md", line 6' in tb  # named as in the content folder
    assert str(built["base"]) not in tb  # never the build machine's absolute path
    assert "fences" not in tb.replace("exception.md", "")  # no engine frames
    syntax = built["page"]("syntax").select_one("pre.fence-traceback").text
    assert 'File "posts/syntax.md", line 6' in syntax


def test_failure_skips_the_rest_of_its_session_only(built):
    statuses = [f["status"] for f in built["report"]["fences"] if f["source"] == "posts/after.md"]
    assert statuses == ["failed", "skipped", "skipped"]
    assert built["report"]["summary"]["skipped"] >= 2


def test_expected_error_is_shown_and_not_a_failure(built, tmp_path):
    files = {"posts/ok.md": post("ok", 1, "```python exec error=true\n1/0\n```\n")}
    write_files(tmp_path / "content", files)
    proc = run_pelican(tmp_path / "content", tmp_path / "out", conf="publishconf.py",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (tmp_path / "out/posts/ok/index.html").read_text()
    assert "ZeroDivisionError" in html


def test_output_is_escaped_and_xml_safe(built):
    soup = built["page"]("escape")
    out = soup.select_one("pre.fence-stdout")
    assert out.text.startswith("<script>alert(1)</script> & red !")
    assert soup.select("div.fence-outputs script") == []
    raw = (built["base"] / "out/posts/escape/index.html").read_text()
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", raw)


def test_huge_output_is_truncated_with_notice(built):
    soup = built["page"]("escape")
    big = soup.select("pre.fence-stdout")[1]
    assert len(big.text) <= 60_000
    assert "truncated" in soup.select_one("p.fence-truncated").text


def test_failures_are_not_cached(built):
    entries = list((built["cache"] / "entries").rglob("*.json"))
    statuses = {json.loads(p.read_text())["status"] for p in entries}
    assert statuses <= {"ran", "expected-error"}
    # good.md, escape.md x2, after.md's expected error is skipped (never ran), syntax: none;
    # cupy.md too where CuPy runs
    assert len(entries) == 3 + cupy_usable()


def test_strict_build_fails_and_lists_every_failure(tmp_path):
    files = {
        "posts/a.md": post("a", 1, "```python exec\nraise RuntimeError('one')\n```\n"),
        "posts/b.md": post("b", 2, "Text.\n\n```python exec nope=1\n1\n```\n"),
        "posts/c.md": post("c", 3, "```python exec\nprint('fine')\n```\n"),
    }
    write_files(tmp_path / "content", files)
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_STRICT": True})
    log = re.sub(r"\s+", " ", proc.stdout + proc.stderr)
    assert proc.returncode != 0
    assert "posts/a.md:5: error: RuntimeError: one" in log
    assert "posts/b.md:6: error: unknown option 'nope'" in log
    assert "2 fence(s) failed" in log


def test_publish_warns_about_figures_without_alt_text(tmp_path):
    files = {"posts/f.md": post("f", 1, "```python exec\nimport matplotlib.pyplot as plt\n"
                                        "plt.plot([1, 2])\n```\n\n```python exec alt='Line'\n"
                                        "plt.plot([2, 1])\n```\n")}
    write_files(tmp_path / "content", files)
    proc = run_pelican(tmp_path / "content", tmp_path / "out", conf="publishconf.py",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    warnings = re.findall(r"posts/f\.md:(\d+): warning: figure has no alt text",
                          proc.stdout + proc.stderr)
    assert warnings == ["4"]


def test_the_summary_counts_a_fence_that_ran_and_failed_as_run(site):
    build = site({"posts/one.md": "Title: One\nDate: 2026-02-01\n\n"
                  "```python exec\nprint('fine')\n```\n\n"
                  "```python exec\nraise ValueError('no')\n```\n\n"
                  "```python exec nonsense=1\nprint('never')\n```\n"})
    assert build.returncode == 0, build.log
    assert "fences: 2 ran, 0 cached, 2 failed" in build.log  # the bad option never ran
    assert build.report["summary"]["executed"] == 2


def test_a_failed_fences_code_shows_post_lines_and_marks_the_failing_one(site):
    build = site({"posts/lines.md": "Title: Lines\nDate: 2026-02-02\n\nText.\n\n"
                  "```python exec\nx = 1\ny = 2\nraise ValueError(x + y)\nz = 4\n```\n"})
    assert build.returncode == 0, build.log
    fence = build.post("lines").select_one("div.fence-failed")
    numbers = [s.text.strip() for s in fence.select(".fence-source .linenos")]
    assert numbers == ["7", "8", "9", "10"]  # the post's lines, as the traceback's
    assert "raise ValueError" in fence.select_one(".fence-source .hll").text
    assert "posts/lines.md:9" in build.log
