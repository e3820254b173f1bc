"""What a build leaves behind: no build-machine path on a page, nothing after a Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import pelican_cmd, pelican_env, write_files

HEAD = "Title: {t}\nDate: 2026-03-01\n\n"


def test_pages_name_no_absolute_path_of_the_build_machine(site, tmp_path):
    body = (
        "```python exec\nimport numpy\nnumpy\n```\n\n"
        "```python exec\nprint(numpy.__file__)\n```\n\n"
        "```python exec\nimport os, sys, tempfile\nprint(os.path.abspath('data.csv'))\n"
        "print(sys.executable)\n"
        "print(os.path.join(tempfile.gettempdir(), 'x'))\n"
        "print(os.path.expanduser('~/notes.txt'))\n```\n\n"
        "```python exec\nos.path.abspath('data.csv')\n```\n"
    )
    build = site({"posts/paths.md": HEAD.format(t="Paths") + body})
    assert build.returncode == 0, build.log
    page = build.read("posts/paths/index.html")
    assert "numpy/__init__.py" in page and "data.csv" in page
    for place in {sys.prefix, sys.base_prefix, os.path.expanduser("~"),
                  tempfile.gettempdir(), str(tmp_path), str(tmp_path.resolve())}:
        assert place + "/" not in page, (place, page)
    assert "posts/data.csv" in page


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.parametrize("moment", ["fork server starting", "preloading", "fence running"])
def test_an_interrupted_build_leaves_no_folder_and_prints_no_traceback(tmp_path, short_tmpdir,
                                                                      moment):
    """Ctrl-C reaches the whole foreground process group, the fork server too: wherever it
    is, the build stops with 130, prints no traceback and leaves no temporary folder."""
    ready = tmp_path / "ready"
    files = {"posts/sleep.md": HEAD.format(t="Sleep")
             + f"```python exec timeout=600\nimport time\nopen({str(ready)!r}, 'w')\n"
             "time.sleep(60)\n```\n"}
    write_files(tmp_path / "content", files)
    tmp = Path(short_tmpdir)
    build = subprocess.Popen(
        pelican_cmd(tmp_path / "content", tmp_path / "out",
                    settings={"FENCES_CACHE_PATH": str(tmp_path / "cache")}),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=pelican_env({"TMPDIR": str(tmp)}), start_new_session=True,
    )
    try:
        # the fork server's socket folder appears as the engine starts it
        assert _wait_for(lambda: any(tmp.glob("pymp-*")), 60), "no fork server started"
        if moment == "preloading":
            time.sleep(0.7)  # the interpreter is up; NumPy and matplotlib are loading
        elif moment == "fence running":
            assert _wait_for(ready.exists, 60), "the fence never ran"
        os.killpg(build.pid, signal.SIGINT)  # as the terminal does
        log, _ = build.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)
        build.wait()
    assert build.returncode == 130, log
    assert "build interrupted" in log
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log
    assert _wait_for(lambda: not any(tmp.glob("fences-*")), 5), list(tmp.iterdir())
