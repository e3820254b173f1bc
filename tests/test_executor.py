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
def fences_executor(settings):
    if settings.executor == "counting":
        return Counting(settings.workers, list(settings.plugins), settings.timeout)
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
