"""`invoke publish` deploys only a build that finished: real invoke, real Pelican, real signals.

Each test starts from a previous output folder and deploy folder and checks that a build
Pelican could not finish (an unreadable post, pages not written, a signal) leaves both as
they were, with no staging folder left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, run_pelican, write_files
from execblog.sitetasks.pelican_cli import read_settings
from execblog.sitetasks.publishing import verify_build
from invoke.exceptions import Exit
from test_tasks import ENV, GOOD_POST, SITEURL, leftovers, log, snapshot

SLOW_POST = """
    Title: Slow
    Date: 2026-03-04 10:00

    Takes its time.

    ```python exec
    open("started", "w").close()
    import time
    time.sleep(30)
    ```
    """


@pytest.fixture
def sites(tmp_path: Path) -> dict[str, Path]:
    """Content with one good post; a previous output folder and deploy folder."""
    write_files(tmp_path / "content", {"posts/sums.md": GOOD_POST})
    write_files(tmp_path / "output", {"index.html": "<p>previous output</p>"})
    write_files(tmp_path / "deploy", {"index.html": "<p>previous deploy</p>"})
    return {"base": tmp_path, "content": tmp_path / "content", "output": tmp_path / "output",
            "deploy": tmp_path / "deploy", "cache": tmp_path / "cache"}


def publish_args(s: dict[str, Path], *extra: str) -> list[str]:
    return [sys.executable, "-m", "invoke", "-r", str(ROOT), "publish",
            "--content", str(s["content"]), "--output", str(s["output"]),
            "--set", f"FENCES_CACHE_PATH={s['cache']}", "--set", f"SITEURL={SITEURL}",
            "--method", "directory",
            "--directory", str(s["deploy"]), *extra]


def assert_untouched(s: dict[str, Path], before: tuple[dict, dict]) -> None:
    assert (snapshot(s["output"]), snapshot(s["deploy"])) == before
    assert leftovers(s["output"]) == [] and leftovers(s["deploy"]) == []


def test_an_unreadable_post_stops_the_publish(sites):
    write_files(sites["content"], {"posts/late.md": "Title: Late\nDate: next tuesday\n\nHi.\n"})
    before = snapshot(sites["output"]), snapshot(sites["deploy"])

    proc = subprocess.run(publish_args(sites), cwd=sites["base"], capture_output=True,
                          text=True, timeout=120, env=ENV)

    assert proc.returncode != 0, log(proc)
    late = sites["content"].resolve() / "posts/late.md"  # outside ROOT, where Pelican runs
    line = f"{late}: error: could not process: ValueError: 'next tuesday' is not a valid date"
    assert line in proc.stderr.splitlines(), log(proc)
    assert "site error(s) (strict mode)" in proc.stderr
    assert "Traceback" not in log(proc)
    assert_untouched(sites, before)


# A plugin that loses a page after Pelican wrote it (a buggy minifier, say): Pelican exits 0.
LOSE_A_PAGE = """
    import os

    from pelican import signals


    def _lose(generator, writer):
        os.remove(os.path.join(generator.output_path, generator.articles[0].save_as))


    def register():
        signals.article_writer_finalized.connect(_lose)
    """


def test_pages_missing_from_the_output_stop_the_publish(sites):
    write_files(sites["base"] / "extra", {"lose_a_page.py": LOSE_A_PAGE})
    plugins = json.dumps([str(ROOT / "plugins"), str(sites["base"] / "extra")])
    with_plugin = json.dumps([*read_settings(ROOT / "publishconf.py", {})["PLUGINS"],
                              "lose_a_page"])
    before = snapshot(sites["output"]), snapshot(sites["deploy"])
    proc = subprocess.run(publish_args(sites, "--set", f"PLUGIN_PATHS={plugins}",
                                       "--set", f"PLUGINS={with_plugin}"),
                          cwd=sites["base"], capture_output=True, text=True, timeout=120,
                          env=ENV)
    assert proc.returncode != 0, log(proc)
    assert "not publishing: pages missing from the output: posts/matrix-sums/index.html" \
        in proc.stderr, log(proc)
    record = json.loads((sites["cache"] / "build.json").read_text())
    assert record["missing"] == ["posts/matrix-sums/index.html"] and record["written"] == 0
    assert_untouched(sites, before)


def children(pid: int) -> list[int]:
    """Processes whose parent is pid, from /proc/*/stat (the field after the name)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def pelican_child(pid: int) -> int:
    for child in children(pid):
        with open(f"/proc/{child}/cmdline", "rb") as fh:
            if b"pelican" in fh.read().split(b"\0"):
                return child
    raise AssertionError(f"no pelican process below {pid}")


@pytest.mark.parametrize("how", ["SIGTERM to pelican", "Ctrl-C", "SIGTERM to invoke"])
def test_a_stopped_build_deploys_nothing(sites, how):
    write_files(sites["content"], {"posts/slow.md": SLOW_POST})
    before = snapshot(sites["output"]), snapshot(sites["deploy"])
    started = sites["content"] / "posts/started"  # the fence writes it, then sleeps

    proc = subprocess.Popen(publish_args(sites), cwd=sites["base"], env=ENV,
                            start_new_session=True,  # its own group, as under a terminal
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the fence never ran"
            time.sleep(0.05)
        t0 = time.monotonic()
        if how == "SIGTERM to pelican":
            os.kill(pelican_child(proc.pid), signal.SIGTERM)
        elif how == "Ctrl-C":  # the terminal sends SIGINT to the whole foreground group
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=25)
        stopped_in = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    assert proc.returncode != 0, out + err
    assert stopped_in < 20, f"took {stopped_in:.1f} s to stop"  # the fence sleeps 30 s
    assert "Built" not in out and "Deployed" not in out
    if how != "SIGTERM to pelican":
        assert proc.returncode == 130 and "interrupted" in err, out + err
    assert_untouched(sites, before)


def test_the_build_record_must_be_this_builds(tmp_path):
    """verify_build on real records: another build's id, or a stale fence report, fails."""
    write_files(tmp_path / "content", {"posts/sums.md": GOOD_POST})
    cache = tmp_path / "cache"
    built = run_pelican(tmp_path / "content", tmp_path / "out", conf="publishconf.py",
                        settings={"FENCES_CACHE_PATH": str(cache), "FENCES_BUILD_ID": "one"})
    assert built.returncode == 0, built.stdout + built.stderr
    settings = {"FENCES_CACHE_PATH": str(cache), "FENCES_REPORT": None}

    verify_build(settings, "one", ROOT)
    with pytest.raises(Exit, match="the build did not finish .* from build 'one'"):
        verify_build(settings, "two", ROOT)

    report_file = cache / "report.json"
    report = json.loads(report_file.read_text())
    assert report["fences"]
    report_file.write_text(json.dumps({**report, "build_id": "zero"}))  # left by another build
    with pytest.raises(Exit, match="fence report .* is from build 'zero'"):
        verify_build(settings, "one", ROOT)

    (cache / "build.json").unlink()
    with pytest.raises(Exit, match="did not finish .*build.json is missing"):
        verify_build(settings, "one", ROOT)
