"""The long-lived preview (`invoke livereload`): the real preview process on a free port
against a small site; edits, located errors, reload messages and the served pages."""

from __future__ import annotations

import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, write_files

A_PAGE = "/posts/a/index.html"
B_PAGE = "/posts/b/index.html"
A_POST = """\
    Title: Post A
    Date: 2026-01-02
    Slug: a

    The first paragraph of A, its summary.

    ```python exec
    print(6 * 7)
    ```

    The last paragraph of A.
    """
B_POST = """\
    Title: Post B
    Date: 2026-01-01
    Slug: b

    Post B says something else, and @fig-b shows it.

    ```python exec
    #| label: fig-b
    #| fig-cap: A line
    import matplotlib.pyplot as plt
    plt.plot([0, 1])
    ```
    """
BROKEN_FENCE = """
```python exec
value = 1
raise ValueError("broken on purpose")
```
"""


def until(check: Callable[[], Any], timeout: float, what: str, log: Path | None = None) -> Any:
    """Poll ``check`` until it returns something truthy; fail with the preview's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-3000:] if log else ""
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n--- preview log ---\n{tail}")


class Preview:
    def __init__(self, base: str, content: Path, output: Path, log: Path):
        self.base, self.content, self.output, self.log = base, content, output, log

    def get(self, path: str) -> bytes | None:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as response:
                return response.read()
        except OSError:
            return None

    def state(self) -> dict[str, Any]:
        data = self.get("/__preview/errors")
        return json.loads(data) if data else {"build": 0, "building": True}

    def listening(self, count: int) -> None:
        until(lambda: self.state().get("clients", 0) >= count, 30,
              f"{count} page(s) listening", self.log)

    def idle(self, after: int = 0, timeout: float = 60) -> dict[str, Any]:
        """The state once a build numbered above ``after`` finished and none runs (a
        pages-only build is followed by a full one within a second)."""
        def settled() -> dict[str, Any] | None:
            first = self.state()
            if first["build"] <= after or first["building"]:
                return None
            time.sleep(0.8)
            second = self.state()
            return second if (second["build"], second["building"]) == (
                first["build"], False) else None

        return until(settled, timeout, f"a finished build after build {after}", self.log)

    def save(self, rel: str, text: str) -> None:
        (self.content / rel).write_text(text, encoding="utf-8")


class Events:
    """An open Server-Sent Events stream; parsed events arrive on ``queue``."""

    def __init__(self, base: str, page: str, digest: str = ""):
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=90)
        self.conn.request("GET", f"/__preview/events?page={page}&digest={digest}")
        self.response = self.conn.getresponse()
        assert self.response.getheader("Content-Type") == "text/event-stream"
        self.queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name, data = "message", ""
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data += line[6:]
                elif not line and data:
                    self.queue.put((name, json.loads(data)))
                    name, data = "message", ""
        except (OSError, ValueError):
            return

    def next(self, name: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no {name!r} event within {timeout} s")
            got, data = self.queue.get(timeout=left)
            if got == name:
                return data

    def close(self) -> None:
        self.conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Preview]:
    base_dir = tmp_path_factory.mktemp("preview")
    content, output, cache = base_dir / "content", base_dir / "out", base_dir / "cache"
    write_files(content, {"posts/a.md": A_POST, "posts/b.md": B_POST})
    root = base_dir / "root"  # where the preview runs: the content folder is outside it
    root.mkdir()
    port = free_port()
    log = base_dir / "preview.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="400",
               PYTHONPATH=os.pathsep.join([str(ROOT / "plugins"),
                                           os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "execblog.sitetasks.preview",
           "--conf", str(ROOT / "pelicanconf.py"), "--content", str(content),
           "--output", str(output), "--root", str(root),
           "--port", str(port), "--set", f"FENCES_CACHE_PATH={cache}"]
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=sink,
                                stderr=subprocess.STDOUT)
    site = Preview(f"http://127.0.0.1:{port}", content, output, log)
    try:
        site.idle(timeout=90)
        yield site
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(chromium) -> Any:
    """Chromium through Playwright (conftest's), or None where there is none (the checks of
    what the page does are then left out; the server's messages are still checked)."""
    return chromium


class Tabs:
    """Pages open in the browser, each marked so that a reload shows (the mark is gone)."""

    def __init__(self, browser: Any, preview: Preview, *paths: str):
        self.pages = {}
        if browser is None:
            return
        for path in paths:
            page = browser.new_page()
            page.goto(preview.base + path)
            page.evaluate("window.__kept = 1")
            self.pages[path] = page
        preview.listening(len(paths))

    def kept(self, path: str) -> bool | None:
        try:
            return self.pages[path].evaluate("window.__kept === 1")
        except Exception:  # noqa: BLE001 - navigating: the old page is gone
            return None

    def overlay(self, path: str) -> str | None:
        """The error overlay's text (None: none shown, or the page is reloading)."""
        try:
            box = self.pages[path].query_selector("#__preview-overlay")
            return box.text_content() if box else None
        except Exception:  # noqa: BLE001 - navigating: the old page is gone
            return None

    def close(self) -> None:
        for page in self.pages.values():
            page.close()


def test_served_pages_carry_the_script_and_the_files_do_not(preview: Preview) -> None:
    served = BeautifulSoup(preview.get(A_PAGE) or b"", "html.parser")
    scripts = served.find_all("script", attrs={"data-preview": "1"})
    assert len(scripts) == 1 and "/__preview/events" in scripts[0].string
    assert "42" in served.get_text()
    on_disk = (preview.output / A_PAGE.lstrip("/")).read_text(encoding="utf-8")
    assert "data-preview" not in on_disk and "__preview" not in on_disk
    # a page the browser shows from an older build is told to reload when it connects
    stale = Events(preview.base, A_PAGE, digest="0" * 64)
    fresh = Events(preview.base, A_PAGE, digest=scripts[0]["data-digest"])
    try:
        assert stale.next("hello", 10)["stale"] is True
        assert fresh.next("hello", 10)["stale"] is False
    finally:
        stale.close()
        fresh.close()


def test_a_prose_edit_changes_the_served_page_and_reloads_only_it(
        preview: Preview, browser: Any) -> None:
    before = preview.idle()
    tabs = Tabs(browser, preview, A_PAGE, B_PAGE)
    events = Events(preview.base, A_PAGE)
    try:
        events.next("hello", 10)
        preview.save("posts/a.md", textwrap.dedent(A_POST).replace(
            "The last paragraph of A.", "The last paragraph of A, edited."))
        until(lambda: b"The last paragraph of A, edited." in (preview.get(A_PAGE) or b""),
              60, "the edited page to be served", preview.log)
        first = events.next("build")
        assert first["build"] > before["build"] and A_PAGE in first["changed"]
        assert B_PAGE not in first["changed"]  # its tab gets no reload
        assert first["errors"] == []
        assert first["selective"] is True  # only the saved post's page was written...
        settled = preview.idle(first["build"])
        assert settled["selective"] is False  # ... then everything, and the page written
        assert A_PAGE not in settled["changed"]  # first was already the full build's page
        # the pages-only build left B's fences out: it says nothing about B's references
        assert "unknown cross-reference" not in preview.log.read_text(errors="replace")
        assert B_PAGE not in settled["changed"]
        assert "/feeds/all.atom.xml" in settled["changed"]  # feeds carry whole posts
        if tabs.pages:
            until(lambda: tabs.kept(A_PAGE) is False, 30, "the edited page to reload")
            assert "edited" in tabs.pages[A_PAGE].text_content("body")
            assert tabs.kept(B_PAGE) is True  # unchanged: not reloaded
    finally:
        events.close()
        tabs.close()
    assert b"The last paragraph of A, edited." in (preview.output / "posts/a/index.html"
                                                   ).read_bytes()


def test_a_failing_fence_is_reported_with_its_line_and_cleared_when_fixed(
        preview: Preview, browser: Any) -> None:
    before = preview.idle()
    tabs = Tabs(browser, preview, A_PAGE, B_PAGE)
    good = (preview.content / "posts/a.md").read_text(encoding="utf-8")
    broken = good + BROKEN_FENCE
    opener = broken.splitlines().index("```python exec", len(good.splitlines()))  # 0-based
    events = Events(preview.base, A_PAGE)
    try:
        events.next("hello", 10)
        preview.save("posts/a.md", broken)
        failed = until(lambda: (s := preview.state())["build"] > before["build"]
                       and s["errors"] and s, 60, "the located error", preview.log)
        error = failed["errors"][0]
        # relative to the content folder (outside the working folder): no absolute path
        assert error["path"] == "posts/a.md"
        assert error["text"].startswith(f"posts/a.md:{error['line']}: error: ")
        assert str(preview.content.parent) not in json.dumps(failed)
        assert opener + 1 <= error["line"] <= opener + 4, error  # inside the broken fence
        assert "ValueError" in error["text"] and f":{error['line']}: error: " in error["text"]
        message = events.next("build")
        assert message["errors"] and message["errors"][0]["line"] == error["line"]
        for path in tabs.pages:  # every open page shows them; A reloaded, B did not
            shown = until(lambda p=path: tabs.overlay(p), 30, f"the overlay on {path}")
            assert f"posts/a.md:{error['line']}: error:" in shown
        if tabs.pages:
            assert tabs.kept(B_PAGE) is True
        preview.save("posts/a.md", good)
        cleared = until(lambda: (s := preview.state())["build"] > failed["build"]
                        and not s["errors"] and not s["building"] and s,
                        60, "the errors to clear", preview.log)
        assert cleared["ok"] is True
        for path in tabs.pages:
            until(lambda p=path: tabs.kept(p) is not None and tabs.overlay(p) is None, 30,
                  f"the overlay on {path} to clear")
    finally:
        events.close()
        tabs.close()


class _Executor:
    """The executor protocol's lifetime half: counts its shutdowns."""

    cancelled = False

    def __init__(self) -> None:
        self.shutdowns = 0

    def shutdown(self) -> None:
        self.shutdowns += 1


def test_a_held_executor_serves_every_build_until_its_settings_change() -> None:
    from execblog.engine import lifetime
    from execblog.engine.settings import read

    settings = read({"FENCES_WORKERS": 1})
    once = lifetime.executor(settings, _Executor)
    assert lifetime.executor(settings, _Executor) is not once  # nothing held: a new one
    assert not lifetime.held(once)
    lifetime.hold()
    try:
        first = lifetime.executor(settings, _Executor)
        # the build id changes every build, and is not what a session depends on
        assert lifetime.executor(read({"FENCES_WORKERS": 1, "FENCES_BUILD_ID": "x"}),
                                 _Executor) is first
        assert lifetime.held(first) and first.shutdowns == 0
        second = lifetime.executor(read({"FENCES_WORKERS": 1, "FENCES_TIMEOUT": 5}), _Executor)
        assert second is not first and first.shutdowns == 1 and lifetime.held(second)
        second.cancelled = True  # an interrupted build's executor is not handed out again
        third = lifetime.executor(read({"FENCES_WORKERS": 1, "FENCES_TIMEOUT": 5}), _Executor)
        assert third is not second
    finally:
        lifetime.release()
    assert third.shutdowns == 1 and not lifetime.held(third)
