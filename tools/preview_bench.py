"""``invoke bench --preview``: save -> served page changed, with the preview running.

Copies the example site's content and fence cache into a temporary folder, adds two posts
(one with a single fence; one whose first fence sleeps 6 s, followed by a second fence),
starts the preview (``python -m execblog.sitetasks.preview``) on a free port and, ``repeat`` times
each, makes three kinds of edit and times from the save to the moment the HTTP server
serves the changed page: a prose edit of an example post, an edit of the one-fence post,
and an edit of the fence after the 6 s fence. For reference it also times one plain-Pelican
rebuild of the same content (no fence engine) and one ``pelican`` run with it (what every
save cost before the preview). Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from execblog.sitetasks.pelican_cli import pelican_command, read_settings
from execblog.standalone import expand_plugins

from .perf import write_results

ROOT = Path(__file__).resolve().parents[1]  # the checkout (this file: tools/preview_bench.py)
PROSE_POST = "posts/hello-gradient-descent.md"  # its Slug: hello-gradient-descent
PROSE_URL = "/posts/hello-gradient-descent/index.html"
ONE_FENCE = ("posts/preview-bench-one-fence.md", "/posts/preview-bench-one-fence/index.html")
AFTER_SLOW = ("posts/preview-bench-slow.md", "/posts/preview-bench-slow/index.html")
# seconds: (goal, at most)
TARGETS = {"prose": (0.5, 1.0), "one_fence": (0.8, 1.5), "after_6s_fence": (1.0, 2.0)}
MARKER = re.compile(r"\n\nPreview bench marker \d+\.\n")


def one_fence_post(n: int) -> str:
    return ("Title: Preview bench: one fence\nDate: 2026-01-01 10:00\n"
            "Slug: preview-bench-one-fence\n\nOne fence.\n\n"
            f"```python exec\nprint('one fence', {n})\n```\n")


def slow_post(n: int) -> str:
    return ("Title: Preview bench: after a slow fence\nDate: 2026-01-01 11:00\n"
            "Slug: preview-bench-slow\n\nA 6 s fence, then the one that is edited.\n\n"
            "```python exec\nimport time\ntime.sleep(6)\nslow = 1\n```\n\n"
            f"```python exec\nprint('after the slow fence', slow + {n})\n```\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read()
    except OSError:
        return None


def state(base: str) -> dict[str, Any]:
    data = fetch(base + "/__preview/errors")
    return json.loads(data) if data else {"build": 0}


def wait_for(predicate: Any, timeout: float, what: str, poll: float = 0.01) -> float:
    """Poll ``predicate`` until true; the seconds it took (SystemExit after ``timeout``)."""
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"preview bench: timed out waiting for {what}")
        time.sleep(poll)
    return time.perf_counter() - started


def settle(base: str, timeout: float = 120) -> int:
    """Wait until the preview has been idle (no build running, none started) for a second:
    a pages-only build is followed by a full one."""
    current = state(base)
    last, since = (current.get("build", 0), current.get("building")), time.perf_counter()
    deadline = time.perf_counter() + timeout
    while last[1] or time.perf_counter() - since < 1.0:
        if time.perf_counter() > deadline:
            raise SystemExit("preview bench: the preview never settled")
        time.sleep(0.05)
        current = state(base)
        now = (current.get("build", 0), current.get("building"))
        if now != last:
            last, since = now, time.perf_counter()
    return last[0]


def timed_edit(base: str, path: Path, text: str, url: str, marker: str) -> float:
    """Save ``text`` to ``path``; seconds until ``url`` serves a page containing
    ``marker``."""
    settle(base)
    started = time.perf_counter()
    path.write_text(text, encoding="utf-8")
    wait_for(lambda: marker.encode() in (fetch(base + url) or b""), 120, f"{url} to change")
    return time.perf_counter() - started


def pelican_seconds(content: Path, output: Path, conf: Path, overrides: dict[str, Any],
                    cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(pelican_command(content, output, conf, overrides), cwd=cwd,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"pelican failed:\n{proc.stdout}\n{proc.stderr}")
    return seconds


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="edits of each kind (median)")
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench-preview.json")
    parser.add_argument("--conf", type=Path, default=ROOT / "pelicanconf.py")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--cache", type=Path, default=ROOT / "fence-cache",
                        help="fence cache copied in to start warm")
    args = parser.parse_args(argv)

    if not (args.content / PROSE_POST).is_file():
        raise SystemExit(f"preview bench: {args.content / PROSE_POST} (the post whose prose "
                         "is edited) does not exist")
    work = Path(tempfile.mkdtemp(prefix="preview-bench-"))
    content, cache, out = work / "content", work / "cache", work / "out"
    shutil.copytree(args.content, content)
    if args.cache.is_dir():
        shutil.copytree(args.cache, cache,
                        ignore=shutil.ignore_patterns("build.json", "report.json"))
    (content / ONE_FENCE[0]).write_text(one_fence_post(0), encoding="utf-8")
    (content / AFTER_SLOW[0]).write_text(slow_post(0), encoding="utf-8")
    overrides = {"FENCES_CACHE_PATH": str(cache)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")) if p)}
    cmd = [sys.executable, "-m", "execblog.sitetasks.preview", "--conf", str(args.conf),
           "--content", str(content), "--output", str(out), "--root", str(work),
           "--port", str(port),
           "--set", f"FENCES_CACHE_PATH={cache}"]
    log = (work / "preview.log").open("w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    runs: dict[str, list[float]] = {name: [] for name in TARGETS}
    try:
        first = wait_for(lambda: state(base).get("build", 0) >= 1, 300, "the first build", 0.1)
        prose_path = content / PROSE_POST
        original = prose_path.read_text(encoding="utf-8")
        for n in range(1, args.repeat + 1):
            marker = f"Preview bench marker {n}."
            runs["prose"].append(timed_edit(
                base, prose_path, MARKER.sub("", original) + f"\n\n{marker}\n", PROSE_URL,
                marker))
            runs["one_fence"].append(timed_edit(
                base, content / ONE_FENCE[0], one_fence_post(n), ONE_FENCE[1],
                f"one fence {n}"))
            runs["after_6s_fence"].append(timed_edit(
                base, content / AFTER_SLOW[0], slow_post(n), AFTER_SLOW[1],
                f"after the slow fence {1 + n}"))
        settle(base)
        settings = read_settings(args.conf, {})
        plain_plugins = [p for p in expand_plugins(settings.get("PLUGINS"))
                         if p != "execblog.engine"]
        plain = pelican_seconds(content, work / "plain-out", args.conf,
                                {**overrides, "PLUGINS": plain_plugins}, work)
        subprocess_build = pelican_seconds(content, work / "sub-out", args.conf, overrides,
                                           work)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)

    medians = {name: statistics.median(values) for name, values in runs.items()}
    result = {
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "repeat": args.repeat,
        "first_build_seconds": first,
        "seconds": medians,
        "runs": runs,
        "reference": {"plain_pelican_rebuild": plain, "pelican_run_with_fences": subprocess_build},
        "targets": {name: {"goal": goal, "at_most": most, "goal_met": medians[name] <= goal,
                           "within_limit": medians[name] <= most}
                    for name, (goal, most) in TARGETS.items()},
    }
    print(f"preview: save -> served page changed (median of {args.repeat}), "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    for name, (goal, most) in TARGETS.items():
        verdict = "goal" if medians[name] <= goal else "ok" if medians[name] <= most else "MISS"
        shown = ", ".join(f"{v:.2f}" for v in runs[name])
        print(f"  {name:<16} {medians[name]:6.2f} s   (goal {goal} s, at most {most} s: "
              f"{verdict}; runs {shown})")
    print(f"  reference: plain Pelican rebuild {plain:.2f} s, "
          f"a `pelican` run with the fence engine {subprocess_build:.2f} s")
    write_results(args.json, result)
    return result


if __name__ == "__main__":
    main()
