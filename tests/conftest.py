"""Shared helpers: build real sites with real Pelican into temporary folders."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from execblog.sitetasks.pelican_cli import pelican_command

ROOT = Path(__file__).resolve().parents[1]
PUBLISH_SITEURL = "https://example.github.io/execblog"  # publish builds' SITEURL


@dataclass
class Build:
    """What one `pelican` run produced."""

    returncode: int
    log: str
    output: Path
    content: Path
    cache: Path

    def read(self, rel: str) -> str:
        return (self.output / rel).read_text(encoding="utf-8")

    def html(self, rel: str) -> BeautifulSoup:
        return BeautifulSoup(self.read(rel), "html.parser")

    def post(self, slug: str) -> BeautifulSoup:
        return self.html(f"posts/{slug}/index.html")

    @property
    def report(self) -> dict:
        """The fence engine's JSON report (default location, inside the cache folder)."""
        return json.loads((self.cache / "report.json").read_text(encoding="utf-8"))

    def statuses(self, source: str | None = None) -> list[str]:
        return [f["status"] for f in self.report["fences"] if source in (None, f["source"])]


def write_files(base: Path, files: dict[str, str]) -> None:
    """Write {relative path: text} under base; text is dedented."""
    for rel, text in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def run_pelican(
    content: Path,
    output: Path,
    *,
    conf: str = "pelicanconf.py",
    settings: dict[str, object] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run the real `pelican` CLI with the project's settings file and -e overrides."""
    return subprocess.run(
        pelican_cmd(content, output, conf=conf, settings=settings), cwd=cwd or content.parent,
        capture_output=True, text=True, timeout=timeout, env=pelican_env(env),
    )


def pelican_cmd(content: Path, output: Path, *, conf: str = "pelicanconf.py",
                settings: dict[str, object] | None = None) -> list[str]:
    """The `pelican` command line run_pelican uses (for tests that need a Popen).
    publishconf.py has no SITEURL of its own (`invoke publish` requires one): its builds
    get PUBLISH_SITEURL unless the settings give another."""
    if conf == "publishconf.py":
        settings = {"SITEURL": PUBLISH_SITEURL, **(settings or {})}
    return pelican_command(content, output, ROOT / conf, settings)


def pelican_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="400")  # no log wrapping
    env.update(extra or {})
    return env


_CUPY_PROBE = """
import sys
try:
    import cupy
except Exception:
    sys.exit(1)
if not cupy.is_available() or int(cupy.arange(8, dtype=cupy.int32).sum()) != 28:
    sys.exit(1)
"""


def cupy_installed() -> bool:
    """Whether CuPy can be found (no import: the test process never initialises CUDA)."""
    return importlib.util.find_spec("cupy") is not None


@functools.cache
def cupy_usable() -> bool:
    """Whether fences can run on CuPy here (it imports, sees a GPU, runs a kernel): the check
    the engine's CuPy probe makes, in a child process."""
    if not cupy_installed():
        return False
    try:
        proc = subprocess.run([sys.executable, "-c", _CUPY_PROBE], capture_output=True,
                              timeout=120)
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0


def auto_backend() -> str:
    """The backend ``backend=auto`` picks on this machine: "cupy" or "numpy"."""
    return "cupy" if cupy_usable() else "numpy"


@pytest.fixture
def site(tmp_path: Path):
    """Return a function that writes content files and builds them.

    site({"posts/a.md": "..."}, settings={...}, conf="publishconf.py") -> Build.
    Content lives in tmp_path/content; a fence cache in tmp_path/cache unless overridden.
    Calling it again rebuilds the same folder (for cache tests).
    """

    def build(
        files: dict[str, str] | None = None,
        *,
        settings: dict[str, object] | None = None,
        conf: str = "pelicanconf.py",
        output: Path | None = None,
    ) -> Build:
        content = tmp_path / "content"
        content.mkdir(exist_ok=True)
        write_files(content, files or {})
        out = output or tmp_path / "output"
        cache = tmp_path / "cache"
        merged: dict[str, object] = {"FENCES_CACHE_PATH": str(cache)}
        merged.update(settings or {})
        proc = run_pelican(content, out, conf=conf, settings=merged)
        cache_path = Path(str(merged["FENCES_CACHE_PATH"]))
        return Build(proc.returncode, proc.stdout + proc.stderr, out, content, cache_path)

    return build


@pytest.fixture
def short_tmpdir(tmp_path: Path):
    """``tmp_path / "tmp"`` under a short name, for a build's TMPDIR: the fork server's
    socket lives under TMPDIR and AF_UNIX paths are limited to 107 bytes, which pytest's
    own temporary folders exceed under xdist after a hundred runs."""
    target = tmp_path / "tmp"
    target.mkdir(exist_ok=True)
    holder = Path(tempfile.mkdtemp(prefix="t", dir="/tmp"))
    link = holder / "t"
    link.symlink_to(target)
    yield link
    shutil.rmtree(holder, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium():
    """One Playwright driver and one Chromium for the whole test process, or None where
    either is missing. Every browser test file takes it from here: Playwright's sync API
    allows one driver per thread at a time, and pytest-xdist runs several files in one
    worker, so a second ``sync_playwright()`` while the first is open fails."""
    from browser_support import CHROMIUM_ARGS, find_chromium

    path = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        path = None
    if path is None:
        yield None
        return
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


LOCATED = re.compile(r"^(?P<path>\S+?):(?P<line>\d+): (?P<severity>error|warning): (?P<msg>.+)$")


def located(log: str) -> list[tuple[str, int, str, str]]:
    """Every compiler-style line of a build log: (path, line, severity, message)."""
    found = []
    for line in log.splitlines():
        match = LOCATED.match(line)
        if match:
            found.append((match["path"], int(match["line"]), match["severity"], match["msg"]))
    return found


def in_child(code: str) -> tuple[bool, str]:
    """Run ``code`` in a child Python (the test process never sets up CUDA): whether it
    succeeded, and its last line (stdout when it did, stderr when it did not)."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    text = proc.stdout if proc.returncode == 0 else proc.stderr
    return proc.returncode == 0, (text.strip().splitlines() or [""])[-1]
