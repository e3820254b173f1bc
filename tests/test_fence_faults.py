"""Faults that used to lose time, pages or paths: each is located, contained, not cached."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup
from conftest import located, run_pelican, write_files

HEAD = "Title: {t}\nDate: 2026-04-0{d}\n\n"


def post(title: str, day: int, body: str) -> str:
    return HEAD.format(t=title, d=day) + body




@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    """One dev build of several bad posts next to a healthy one, content outside the cwd."""
    base = tmp_path_factory.mktemp("faults")
    files = {
        "posts/timeouts.md": post("Timeouts", 1,
                                  "```python exec timeout=inf\n1\n```\n\n"
                                  "```python exec timeout=2147484\n2\n```\n"),
        "posts/figure.md": post("Figure", 2,
                                "```python exec\nimport matplotlib.pyplot as plt\n"
                                "fig, ax = plt.subplots()\nax.set_title(r'$\\frac{1}{$')\n```\n\n"
                                "```python exec session=next\nimport matplotlib.pyplot as plt\n"
                                "print(len(plt.get_fignums()))\n```\n"),
        "posts/ids.md": post("Ids", 3, "```python exec id=same\n1\n```\n\n"
                                       "```python exec id=same\n2\n```\n"),
        "posts/paths.md": post("Paths", 4,
                               "```python exec\nimport argparse, sys, warnings\n"
                               "print(sys.argv)\nwarnings.warn('look here')\n"
                               "argparse.ArgumentParser().print_usage()\n```\n\n"
                               "```python exec\nraise ValueError('where am I')\n```\n"),
        "posts/long.md": post("Long", 5,
                              "```python exec\nraise RuntimeError('word ' * 200)\n```\n"),
        "posts/good.md": post("Good", 6, "```python exec\nprint('still fine')\n```\n"),
        "posts/signals.md": post("Signals", 7,
                                 "```python exec\nimport os, signal\nprint('about to go')\n"
                                 "os.kill(os.getpid(), signal.SIGKILL)\n```\n\n"
                                 "```python exec session=abort\nimport os\nos.abort()\n```\n\n"
                                 "```python exec session=bus\nimport signal\n"
                                 "signal.raise_signal(signal.SIGBUS)\n```\n"),
    }
    write_files(base / "site" / "content", files)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    proc = run_pelican(base / "site" / "content", base / "out", cwd=elsewhere,
                       settings={"FENCES_CACHE_PATH": str(base / "cache")},
                       env={"GITHUB_ACTIONS": "true"})
    return {"proc": proc, "log": proc.stdout + proc.stderr, "base": base}


def _page(faults, slug: str) -> str:
    return (faults["base"] / "out" / "posts" / slug / "index.html").read_text()


def test_the_build_finishes_and_the_healthy_post_renders(faults):
    assert faults["proc"].returncode == 0, faults["log"]
    assert "still fine" in _page(faults, "good")


@pytest.mark.parametrize("value", ["inf", "2147484"])
def test_huge_timeouts_are_located_option_errors(faults, value):
    lines = [m for _, _, sev, m in located(faults["log"]) if value in m and sev == "error"]
    assert lines and "timeout" in lines[0] and "at most 86400" in lines[0], faults["log"]


def test_a_figure_that_cannot_draw_fails_and_is_closed(faults):
    errors = [(p, line, m) for p, line, sev, m in located(faults["log"])
              if p.endswith("figure.md") and sev == "error"]
    assert errors and "capturing outputs failed" in errors[0][2], faults["log"]
    page = _page(faults, "figure")
    assert "fence-failed" in page
    # nothing of the failing session was cached; the next session saw no leftover figure
    assert re.search(r"<pre[^>]*>0\s*</pre>", page), page


def test_a_duplicate_id_is_a_located_error(faults):
    errors = [(line, m) for p, line, sev, m in located(faults["log"]) if p.endswith("ids.md")]
    assert errors == [(8, "duplicate id 'same' (already used at line 4)")], faults["log"]


def test_pages_show_content_relative_paths_only(faults):
    page = _page(faults, "paths")
    base = str(faults["base"])
    assert base not in page
    assert "site-packages" not in page
    assert "[&#x27;posts/paths.md&#x27;]" in page or "['posts/paths.md']" in page
    assert "usage: paths.md" in page  # argparse names the program after sys.argv[0]
    assert "posts/paths.md:7: UserWarning: look here" in page
    assert "posts/paths.md:12" in page  # the error header of the second fence


def test_located_messages_are_one_line_with_github_annotations(faults):
    log = faults["log"]
    long_errors = [m for p, _, sev, m in located(log) if p.endswith("long.md")]
    assert long_errors and long_errors[0].startswith("RuntimeError: word word")
    assert re.search(r"^::error file=[^,]*long\.md,line=5::RuntimeError: word", log, re.M), log


def _text(path) -> str:
    return BeautifulSoup(path.read_text(), "html.parser").get_text()


def test_a_session_killed_by_a_signal_says_which_and_what_it_usually_means(faults):
    errors = {line: m for p, line, sev, m in located(faults["log"])
              if p.endswith("signals.md") and sev == "error"}
    assert errors == {
        4: "the session process was killed (SIGKILL), often the out-of-memory killer",
        10: "the session process crashed (SIGABRT: aborted, often by a failed check or a "
            "failed allocation in native code)",
        15: "the session process crashed (SIGBUS: a bad memory access, often past the end of "
            "a memory-mapped file)",
    }, faults["log"]
    assert "about to go" in _page(faults, "signals")  # what it printed first is kept


@pytest.mark.parametrize("code, text", [
    (3, "exited with status 3"),
    (137, "exited with status 137 (128 + SIGKILL: often the out-of-memory killer)"),
    (-11, "crashed (SIGSEGV: an invalid memory access, often in native code)"),
    (-8, "crashed (SIGFPE: an arithmetic error, such as an integer division by zero)"),
    (-4, "crashed (SIGILL: an illegal instruction, often code built for another CPU)"),
    (-15, "was stopped (SIGTERM)"),
    (-10, "crashed (SIGUSR1)"),
    (None, "stopped answering"),
])
def test_exit_descriptions(code, text):
    from execblog.executors.local.pool import _describe_exit

    assert _describe_exit(code) == text


def test_cached_errors_follow_their_post_when_lines_move(tmp_path):
    body = "```python exec error=true\nx = 1\nraise ValueError('expected')\n```\n"
    files = {"posts/moving.md": post("Moving", 7, "Intro.\n\n" + body)}
    write_files(tmp_path / "content", files)
    settings = {"FENCES_CACHE_PATH": str(tmp_path / "cache")}
    first = run_pelican(tmp_path / "content", tmp_path / "out", settings=settings)
    assert first.returncode == 0, first.stdout + first.stderr
    page = _text(tmp_path / "out/posts/moving/index.html")
    assert 'posts/moving.md", line 8' in page
    write_files(tmp_path / "content",
                {"posts/moving.md": post("Moving", 7, "Intro.\n\nMore.\n\nEven more.\n\n" + body)})
    second = run_pelican(tmp_path / "content", tmp_path / "out", settings=settings)
    assert "0 ran, 1 cached" in second.stdout + second.stderr
    page = _text(tmp_path / "out/posts/moving/index.html")
    assert 'posts/moving.md", line 12' in page and 'line 8' not in page
    (tmp_path / "content/posts/moving.md").rename(tmp_path / "content/posts/moved.md")
    third = run_pelican(tmp_path / "content", tmp_path / "out", settings=settings)
    assert "0 ran, 1 cached" in third.stdout + third.stderr
    page = _text(tmp_path / "out/posts/moving/index.html")  # the slug comes from the title
    assert 'posts/moved.md", line 12' in page and "moving.md" not in page


def test_expected_crashes_and_timeouts_do_not_fail_a_strict_build(tmp_path):
    files = {
        "posts/crash.md": post("Crash", 8,
                               "```python exec error=true\nimport os\nos._exit(3)\n```\n"),
        "posts/slow.md": post("Slow", 9,
                              "```python exec error=true timeout=1\nwhile True:\n    pass\n```\n"),
    }
    write_files(tmp_path / "content", files)
    proc = run_pelican(tmp_path / "content", tmp_path / "out", conf="publishconf.py",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache")})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    severities = {p.rsplit("/", 1)[-1]: sev for p, _, sev, _ in located(log)}
    assert severities == {"crash.md": "warning", "slow.md": "warning"}, log
    assert "exited with status 3" in (tmp_path / "out/posts/crash/index.html").read_text()


def test_bad_engine_settings_are_one_clear_line(tmp_path):
    write_files(tmp_path / "content", {"posts/a.md": post("A", 1, "Text.\n")})
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_WORKERS": -1})
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "FENCES_WORKERS = -1 is not valid" in log, log
    assert "Traceback" not in log and "KeyError" not in log


def test_an_unwritable_cache_is_a_warning_and_the_page_still_builds(tmp_path, short_tmpdir):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    write_files(tmp_path / "content", {"posts/a.md": post("A", 1,
                                                          "```python exec\nprint(6 * 7)\n```\n")})
    tmp = short_tmpdir  # where the report falls back to
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(blocker / "cache")},
                       env={"TMPDIR": str(tmp)})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert re.search(r"warning: cannot write the fence cache", log), log
    assert "42" in (tmp_path / "out/posts/a/index.html").read_text()
    (report,) = tmp.glob("fences-report-*.json")
    assert json.loads(report.read_text())["summary"]["ran"] == 1
