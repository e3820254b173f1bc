"""`invoke publish` swaps with no gap and takes turns: real invoke, real Pelican, real signals.

A reader polling the served folders never fails to open `index.html` while a site is
published again and again; folders left by a killed publish are removed by the next one
(never one a live publish holds); two publishes of one site at once take turns; Ctrl-C or
SIGTERM at the swap or before the deploy exits 130 with one line saying what changed.
Timing is made deterministic by EXECBLOG_PUBLISH_PAUSE="STAGE:FILE" (publishing.py), which
stops a publish just before STAGE until FILE exists.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT, write_files
from test_tasks import ENV, GOOD_POST, SITEURL, leftovers, snapshot

NEW_POST = """
    Title: Second post
    Slug: second
    Date: 2026-03-05 10:00

    Written while another publish was running.
    """


@pytest.fixture
def sites(tmp_path: Path) -> dict[str, Path]:
    """Content with one good post; a previous output folder and deploy folder."""
    write_files(tmp_path / "content", {"posts/sums.md": GOOD_POST})
    write_files(tmp_path / "output", {"index.html": "<p>previous output</p></html>\n"})
    write_files(tmp_path / "deploy", {"index.html": "<p>previous deploy</p></html>\n"})
    return {"base": tmp_path, "content": tmp_path / "content", "output": tmp_path / "output",
            "deploy": tmp_path / "deploy", "cache": tmp_path / "cache"}


def publish_args(s: dict[str, Path]) -> list[str]:
    return [sys.executable, "-m", "invoke", "-r", str(ROOT), "publish",
            "--content", str(s["content"]), "--output", str(s["output"]),
            "--set", f"FENCES_CACHE_PATH={s['cache']}", "--set", f"SITEURL={SITEURL}",
            "--method", "directory",
            "--directory", str(s["deploy"])]


class Publish:
    """`invoke publish` running in its own process group (as under a terminal), its output
    read line by line as it comes."""

    def __init__(self, s: dict[str, Path], pause: str | None = None) -> None:
        env = dict(ENV)
        if pause:
            env["EXECBLOG_PUBLISH_PAUSE"] = pause
        self.proc = subprocess.Popen(publish_args(s), cwd=s["base"], env=env,
                                     start_new_session=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: dict[str, list[str]] = {"out": [], "err": []}
        self._readers = [threading.Thread(target=self._read, args=(stream, name), daemon=True)
                         for stream, name in ((self.proc.stdout, "out"),
                                              (self.proc.stderr, "err"))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, name: str) -> None:
        for line in stream:
            self.lines[name].append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines["out"] + ["--- stderr:"] + self.lines["err"])

    def wait_for(self, text: str, timeout: float = 120) -> str:
        """The first line holding text, once it has been printed."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines["out"] + self.lines["err"]:
                if text in line:
                    return line
            assert self.proc.poll() is None, f"exited before {text!r}:\n{self.log}"
            assert time.monotonic() < deadline, f"no {text!r} after {timeout} s:\n{self.log}"
            time.sleep(0.02)

    def finish(self, timeout: float = 120) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self.kill()
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def run_publish(s: dict[str, Path]) -> subprocess.CompletedProcess:
    return subprocess.run(publish_args(s), cwd=s["base"], capture_output=True, text=True,
                          timeout=300, env=ENV)


def test_the_served_folders_never_go_missing(sites):
    """A reader opening index.html in the output and deploy folders in a tight loop, while
    the site is published three times, never fails, and always reads a whole page."""
    failures: list[str] = []
    reads = [0]
    stop = threading.Event()

    def poll() -> None:
        paths = [sites["output"] / "index.html", sites["deploy"] / "index.html"]
        while not stop.is_set():
            for path in paths:
                try:
                    with open(path, encoding="utf-8") as fh:
                        text = fh.read()
                except OSError as exc:
                    failures.append(f"{path}: {exc}")
                    continue
                reads[0] += 1
                if "</html>" not in text:
                    failures.append(f"{path}: not a whole page ({len(text)} characters)")

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        for _ in range(3):
            proc = run_publish(sites)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert "cannot exchange two folders" not in proc.stderr  # the atomic swap ran
    finally:
        stop.set()
        poller.join(timeout=10)
    assert failures == [], f"{len(failures)} failed reads of {reads[0]}: {failures[:5]}"
    assert reads[0] > 100  # the reader really ran alongside (thousands, when idle)
    assert "matrix-sums" in (sites["deploy"] / "index.html").read_text()
    assert snapshot(sites["deploy"]) == snapshot(sites["output"])
    assert leftovers(sites["output"]) == [] and leftovers(sites["deploy"]) == []


def test_a_publish_removes_what_killed_publishes_left(sites):
    """A publish killed at the swap leaves its staging folder; with it, set-aside and
    deploy folders of other killed publishes. The next publish removes them all, but not
    a folder a live publish holds (flock), nor anything else next to the output."""
    base = sites["base"]
    killed = Publish(sites, pause=f"swap:{base / 'never'}")
    try:
        killed.wait_for("paused before the swap")
        os.killpg(killed.proc.pid, signal.SIGKILL)  # no chance to clean up
    finally:
        killed.finish()
    (staging,) = leftovers(sites["output"])
    assert staging.startswith(".output.new-") and (base / staging / "index.html").is_file()
    for name in (".output.old-1a2b3c4d", ".deploy.new-5e6f7a8b", ".deploy.old-9c0d1e2f",
                 ".output.new-live"):
        write_files(base / name, {"index.html": "left behind", "posts/x/index.html": "x"})
    write_files(base, {".output.notes": "not a publish's", ".outputs.new-1/keep": "other"})
    live = os.open(base / ".output.new-live", os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(live, fcntl.LOCK_EX)  # as the publish that made it would
    try:
        proc = run_publish(sites)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert leftovers(sites["output"]) == [".output.new-live", ".output.notes"]
        assert leftovers(sites["deploy"]) == []
        assert (base / ".outputs.new-1/keep").is_file()
        removed = sorted([staging, ".output.old-1a2b3c4d", ".deploy.new-5e6f7a8b",
                          ".deploy.old-9c0d1e2f"])
        line = next(x for x in proc.stdout.splitlines() if x.startswith("publish: removed"))
        assert line.startswith("publish: removed 4 folder(s) left by interrupted publishes: ")
        assert sorted(line.split("publishes: ", 1)[1].split(", ")) == removed
    finally:
        os.close(live)
    assert "matrix-sums" in (sites["deploy"] / "index.html").read_text()


def test_two_publishes_of_one_site_take_turns(sites):
    """The second publish says the first is running (its pid) and waits; both succeed, and
    the site is the second one's build, whole, in both folders."""
    go = sites["base"] / "go"
    first = Publish(sites, pause=f"swap:{go}")
    second = None
    try:
        first.wait_for("paused before the swap")  # built, holding the lock
        second = Publish(sites)
        line = second.wait_for("another publish of this site is running")
        assert line == (f"another publish of this site is running (pid {first.proc.pid}); "
                        "waiting for it to finish")
        write_files(sites["content"], {"posts/second.md": NEW_POST})  # only the second sees it
        go.touch()
        assert first.finish() == 0, first.log
        assert second.finish() == 0, second.log
    finally:
        first.kill()
        if second is not None:
            second.kill()
    assert "Deployed to" in first.log and "Deployed to" in second.log
    assert "another publish" not in first.log
    for folder in (sites["output"], sites["deploy"]):
        index = (folder / "index.html").read_text()
        assert "matrix-sums" in index and "posts/second/" in index, folder
        assert (folder / "posts/second/index.html").is_file()
    assert snapshot(sites["deploy"]) == snapshot(sites["output"])
    record = json.loads((sites["cache"] / "build.json").read_text())
    report = json.loads((sites["cache"] / "report.json").read_text())
    assert record["complete"] and record["missing"] == []
    assert record["build_id"] == report["build_id"]
    assert leftovers(sites["output"]) == [] and leftovers(sites["deploy"]) == []


@pytest.mark.parametrize(("stage", "signum"), [("swap", signal.SIGINT),
                                               ("deploy", signal.SIGINT),
                                               ("swap", signal.SIGTERM)])
def test_a_signal_at_the_swap_or_the_deploy_exits_130_with_one_line(sites, stage, signum):
    before = snapshot(sites["output"]), snapshot(sites["deploy"])
    running = Publish(sites, pause=f"{stage}:{sites['base'] / 'never'}")
    try:
        running.wait_for(f"paused before the {stage}")
        if signum == signal.SIGINT:  # Ctrl-C: the terminal signals the whole group
            os.killpg(running.proc.pid, signum)
        else:
            os.kill(running.proc.pid, signum)
        code = running.finish(timeout=60)
    finally:
        running.kill()
    output, deploy = sites["output"], sites["deploy"]
    assert code == 130, running.log
    assert "Traceback" not in running.log and "Deployed" not in running.log
    last = running.lines["err"][-1]
    if stage == "swap":
        assert last == f"interrupted: nothing published ({output} is unchanged)", running.log
        assert snapshot(output) == before[0]
    else:
        assert last == (f"interrupted: {output} holds the new site; nothing was deployed "
                        f"({deploy} is unchanged)"), running.log
        assert "matrix-sums" in (output / "index.html").read_text()
    assert snapshot(deploy) == before[1]
    assert leftovers(output) == [] and leftovers(deploy) == []
