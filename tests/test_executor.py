"""The executor seam: sessions run wherever the ``fences_executor`` hook says."""

from __future__ import annotations

import json

from conftest import run_pelican, write_files
from execblog.engine.hookspecs import Executor
from execblog.executors.local.pool import SessionPool

# A third-party executor: the local pool under another name, counting what it was given.
PLUGIN = '''
import json, os
from execblog.engine import hookimpl
from execblog.executors.local.pool import SessionPool


class Counting(SessionPool):
    name = "counting"

    def submit(self, fences):
        with open(os.environ["EXECUTOR_LOG"], "a") as fh:
            fh.write(json.dumps([f.source for f in fences]) + "\\n")
        return super().submit(fences)


@hookimpl
def fences_executor(engine):
    if engine.executor == "counting":
        return Counting(engine.workers, list(engine.plugins), engine.timeout)
    return None
'''

POSTS = {
    "posts/a.md": "Title: A\nDate: 2026-05-01\n\n```python exec\nprint('a1')\n```\n\n"
                  "```python exec\nprint('a2')\n```\n",
    "posts/b.md": "Title: B\nDate: 2026-05-02\n\n```python exec\nprint('b1')\n```\n\n"
                  "```python exec session=other\nprint('b2')\n```\n",
}


def test_the_local_pool_is_an_executor():
    assert isinstance(SessionPool(1, [], 60), Executor)


def test_a_plugin_executor_runs_the_sessions(tmp_path):
    write_files(tmp_path / "lib", {"countingexec.py": PLUGIN})
    write_files(tmp_path / "content", POSTS)
    log = tmp_path / "sessions.jsonl"
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_PLUGINS": ["countingexec"],
                                 "FENCES_EXECUTOR": "counting"},
                       env={"PYTHONPATH": str(tmp_path / "lib"), "EXECUTOR_LOG": str(log)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sessions = sorted(tuple(json.loads(line)) for line in log.read_text().splitlines())
    assert sessions == [("posts/a.md", "posts/a.md"), ("posts/b.md",), ("posts/b.md",)]
    page = (tmp_path / "out/posts/b/index.html").read_text()
    assert "b1" in page and "b2" in page


def test_an_executor_nobody_provides_is_one_clear_error(tmp_path):
    write_files(tmp_path / "content", POSTS)
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_EXECUTOR": "carrier-pigeon"}, timeout=60)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "FENCES_EXECUTOR = 'carrier-pigeon' is not valid" in log, log
    assert "Traceback" not in log


def test_sessions_that_took_longest_last_time_start_first(site, tmp_path):
    """With one worker, a cold build whose last report survived (here FENCES_REPORT outside
    the cache, wiped) runs the session that took longest first, whatever the reading order."""
    import shutil

    fence = "```python exec\nimport time\n{sleep}print(time.time())\n```\n"
    files = {f"posts/quick{i}.md": f"Title: Quick {i}\nDate: 2026-03-0{i + 1}\n\n"
             + fence.format(sleep="") for i in range(4)}
    files["posts/slow.md"] = ("Title: Slow\nDate: 2026-03-09\n\n"
                              + fence.format(sleep="time.sleep(0.4)\n"))
    settings = {"FENCES_WORKERS": 1, "FENCES_REPORT": str(tmp_path / "report.json")}
    first = site(files, settings=settings)
    assert first.returncode == 0, first.log
    shutil.rmtree(first.cache)  # a cold build: every session runs again
    second = site(settings=settings)
    assert second.returncode == 0, second.log
    report = json.loads((tmp_path / "report.json").read_text())
    assert {f["status"] for f in report["fences"]} == {"ran"}

    def started(build, slug):
        return float(build.read(f"posts/{slug}/index.html").split("fence-stdout")[1]
                     .split(">", 1)[1].split("<", 1)[0]) - (0.4 if slug == "slow" else 0)

    assert all(started(second, "slow") < started(second, f"quick-{i}") for i in range(4))
