"""Site tasks: `invoke --list` shows them; README.md ("Tasks", "Publishing") describes them.

Every path defaults to this file's folder, so the tasks work from any directory
(`invoke -r /path/to/repo build`). Pelican always runs as a subprocess of the current
interpreter, so a failing build is a non-zero exit status, never a half-built process state.

`publish` never exposes a half-written site, nor a moment without one: it builds into a
fresh folder next to the output folder (same filesystem), and only when Pelican succeeds and
the build record it wrote says this very build finished with every page written does it
exchange the new folder with the old output in one step (renameat2 RENAME_EXCHANGE), delete
the old one, and deploy. Drafts and hidden posts and pages are left out (publishconf.py:
WRITE_DRAFTS, WRITE_HIDDEN). Publishes of one site take turns (a lock in the fence cache
folder), and a publish first removes the folders killed publishes left. Ctrl-C (or SIGTERM)
at any point exits 130 with one line saying what changed.

The logic lives in plugins/execblog/sitetasks/ (pelican_cli, publishing, perf); the tasks below only
resolve paths and call it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from invoke import Context, task
from invoke.exceptions import Exit

ROOT = Path(__file__).resolve().parent
if str(ROOT / "plugins") not in sys.path:  # as Pelican's PLUGIN_PATHS does for the build
    sys.path.insert(0, str(ROOT / "plugins"))

from execblog.sitetasks import publishing  # noqa: E402
from execblog.sitetasks.pelican_cli import (  # noqa: E402
    Interrupted,
    fence_mode,
    parse_overrides,
    read_settings,
    run_pelican,
)
from execblog.sitetasks.publishing import resolve as _path  # noqa: E402

DEV_CONF = ROOT / "pelicanconf.py"
PUBLISH_CONF = ROOT / "publishconf.py"
DEFAULT_CONTENT = ROOT / "content"
DEFAULT_OUTPUT = ROOT / "output"

BUILD_HELP = {
    "content": "content folder (default: content/ next to tasks.py)",
    "output": "output folder (default: output/ next to tasks.py)",
    "set": "KEY=VALUE setting override, repeatable (value in JSON; a bare word is a string)",
    "frozen": "execute no fence: use the cache only, a missing entry is an error",
    "rerun": "ignore the fence cache and run every fence",
}
EXECUTOR_HELP = ("where sessions run: local (default) or a Dask scheduler address "
                 "(tcp://host:8786); sets FENCES_EXECUTOR")

__all__ = ["Interrupted", "parse_overrides", "read_settings", "verify_build"]


def verify_build(settings: dict[str, Any], build_id: str) -> None:
    """Raise Exit unless this checkout's build ``build_id`` finished with every page written
    (see sitetasks.publishing.verify_build)."""
    publishing.verify_build(settings, build_id, ROOT)


def _build(content: str | None, output: str | None, set: list[str] | None,
           frozen: bool, rerun: bool, executor: str | None = None) -> Path:
    out = _path(output, DEFAULT_OUTPUT)
    overrides = {**parse_overrides(set), **fence_mode(frozen, rerun)}
    if executor:
        overrides["FENCES_EXECUTOR"] = executor
    run_pelican(DEV_CONF, _path(content, DEFAULT_CONTENT), out, overrides, ROOT)
    return out


# --- tasks ---------------------------------------------------------------------------------


@task(iterable=["set"], help={**BUILD_HELP, "executor": EXECUTOR_HELP})
def build(c: Context, content: str | None = None, output: str | None = None,
          set: list[str] | None = None, frozen: bool = False,
          rerun: bool = False, executor: str | None = None) -> None:
    """Development build (pelicanconf.py): failing fences render error blocks."""
    _build(content, output, set, frozen, rerun, executor)


@task(iterable=["set"], help={k: BUILD_HELP[k] for k in ("content", "output", "set")})
def prune(c: Context, content: str | None = None, output: str | None = None,
          set: list[str] | None = None) -> None:
    """Build, then delete the fence-cache entries and figures that this build did not use.

    Every edit leaves the old result behind; run this before committing fence-cache/."""
    started = time.time() - 1  # mtimes may be coarser than the clock
    _build(content, output, set, frozen=False, rerun=False)
    print(publishing.prune_cache(read_settings(DEV_CONF, parse_overrides(set)), ROOT,
                                 since=started))


@task(help={"output": BUILD_HELP["output"]})
def clean(c: Context, output: str | None = None) -> None:
    """Remove the output folder."""
    out = _path(output, DEFAULT_OUTPUT)
    if out.exists():
        shutil.rmtree(out)
        print(f"Removed {out}")


@task(iterable=["set"], help=BUILD_HELP)
def rebuild(c: Context, content: str | None = None, output: str | None = None,
            set: list[str] | None = None, frozen: bool = False,
            rerun: bool = False) -> None:
    """Clean, then build."""
    clean(c, output=output)
    _build(content, output, set, frozen, rerun)


PREVIEW_HELP = {**BUILD_HELP, "port": "port (default 8000)",
                "bind": "address to listen on (default 127.0.0.1)"}


def _preview(content: str | None, output: str | None, set: list[str] | None, frozen: bool,
             rerun: bool, port: int, bind: str) -> None:
    """The long-lived preview (plugins/execblog/sitetasks/preview.py); Ctrl-C stops it."""
    from execblog.sitetasks import preview

    content_path = _path(content, DEFAULT_CONTENT)
    if not content_path.is_dir():
        raise Exit(f"content folder not found: {content_path}", code=1)
    preview.run(DEV_CONF, content_path, _path(output, DEFAULT_OUTPUT),
                {**parse_overrides(set), **fence_mode(frozen, rerun)}, ROOT, bind, port)


@task(iterable=["set"], help={**PREVIEW_HELP,
                              "watch": "rebuild on every change and reload the browser "
                                       "(the same as `invoke livereload`)"})
def serve(c: Context, output: str | None = None, port: int = 8000,
          bind: str = "127.0.0.1", watch: bool = False, content: str | None = None,
          set: list[str] | None = None, frozen: bool = False, rerun: bool = False) -> None:
    """Serve the output folder with Pelican's web server (--watch: the live preview)."""
    if watch:
        _preview(content, output, set, frozen, rerun, port, bind)
        return
    out = _path(output, DEFAULT_OUTPUT)
    if not out.is_dir():
        raise Exit(f"nothing to serve: {out} does not exist (run `invoke build`)", code=1)
    cmd = [sys.executable, "-m", "pelican", "--listen", "-s", str(DEV_CONF), "-o", str(out),
           "-p", str(port), "-b", bind]
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(cmd, cwd=ROOT)


@task(iterable=["set"], help=PREVIEW_HELP)
def livereload(c: Context, content: str | None = None, output: str | None = None,
               set: list[str] | None = None, frozen: bool = False,
               rerun: bool = False, port: int = 8000, bind: str = "127.0.0.1") -> None:
    """Build, serve, rebuild in-process on save; reload a page only when it changed.

    One process keeps Pelican, the fence engine and its fork server alive; a failed
    rebuild's located errors show in an overlay on the page; a change to Python code under
    plugins/ restarts the process."""
    _preview(content, output, set, frozen, rerun, port, bind)


POST_TEMPLATE = """\
Title: {title}
Date: {date}
Status: draft
Summary: One sentence about this post, shown on the home page and in feeds.

## Introduction

Write the prose here. Inline math $e^{{i\\pi}} + 1 = 0$ works, and `exec` fences run at
build time:

```python exec
a = xp.arange(10)
print(a.sum())
```
"""


@task(help={"title": "the post's title", "content": BUILD_HELP["content"]})
def new(c: Context, title: str, content: str | None = None) -> None:
    """Create content/posts/YYYY-MM-DD-slug.md as a draft; never overwrites a file.

    `invoke build` writes drafts to drafts/SLUG.html, off the home page, feeds, sitemap and
    search; `invoke publish` leaves them out. Delete the `Status: draft` line to publish."""
    from pelican.settings import DEFAULT_CONFIG
    from pelican.utils import slugify

    if not title.strip():
        raise Exit("the title is empty", code=2)
    zone = ZoneInfo(read_settings(DEV_CONF, {}).get("TIMEZONE") or "UTC")
    now = datetime.now(zone)
    slug = slugify(title, regex_subs=DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"])
    path = _path(content, DEFAULT_CONTENT) / "posts" / f"{now:%Y-%m-%d}-{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = POST_TEMPLATE.format(title=title.strip(), date=f"{now:%Y-%m-%d %H:%M}")
    try:
        with path.open("x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise Exit(f"{path} already exists; not overwriting it", code=1) from None
    print(f"Created {path}")


@task(iterable=["set"], help={
    **BUILD_HELP,
    "method": "deploy method: ghp-import or directory (default: DEPLOY_METHOD)",
    "repository": "git repository for ghp-import (default: DEPLOY_REPOSITORY)",
    "branch": "branch for ghp-import (default: DEPLOY_BRANCH)",
    "remote": "remote to push to (default: DEPLOY_REMOTE)",
    "push": "push the branch to the remote (default: DEPLOY_PUSH)",
    "directory": "target folder for the directory method (default: DEPLOY_DIRECTORY)",
})
def publish(c: Context, content: str | None = None, output: str | None = None,
            set: list[str] | None = None, frozen: bool = False,
            rerun: bool = False, method: str | None = None, repository: str | None = None,
            branch: str | None = None, remote: str | None = None, push: bool = False,
            directory: str | None = None) -> None:
    """Strict build (publishconf.py); if it succeeds, swap it into the output and deploy.

    A failed or interrupted build changes nothing: neither the output folder nor the deploy
    target. Success is Pelican's exit status 0 *and* a build record with this build's id.
    Drafts and hidden content are not published; a second publish of the site waits for the
    first; the swaps never leave the output or deploy folder missing."""
    publishing.publish_site(
        PUBLISH_CONF, _path(content, DEFAULT_CONTENT), _path(output, DEFAULT_OUTPUT),
        {**parse_overrides(set), **fence_mode(frozen, rerun)}, ROOT, method=method,
        repository=repository, branch=branch, remote=remote, push=push, directory=directory)


@task(iterable=["corpus"], help={
            "posts": "posts in the synthetic site (default 40)",
            "repeat": "runs of the plain and warm builds; the best is kept (default 3); "
                      "with --preview, edits of each kind (the median is kept)",
            "results": "where to write the JSON results (default output/bench.json, "
                       "with --preview output/bench-preview.json)",
            "preview": "measure the live preview instead: save -> served page changed on the "
                       "example site",
            "corpus": "a sphinx-gallery folder whose examples are the posts instead (e.g. "
                      "matplotlib's galleries/examples/color); repeat for several",
            "limit": "with --corpus: at most this many examples"})
def bench(c: Context, posts: int = 40, repeat: int = 3, results: str | None = None,
          preview: bool = False, corpus: list[str] | None = None,
          limit: int | None = None) -> None:
    """Measure plain, cold, warm and one-edit builds of a synthetic site, in one run.

    --preview: the live preview's save -> served page changed, on the example site.
    --corpus: a real corpus (a sphinx-gallery folder) instead of the synthetic site."""
    if preview:
        cmd = [sys.executable, "-m", "execblog.sitetasks.preview_bench", "--repeat", str(repeat),
               "--conf", str(DEV_CONF), "--content", str(DEFAULT_CONTENT)]
    else:
        cmd = [sys.executable, "-m", "execblog.sitetasks.perf", "--posts", str(posts), "--repeat",
               str(repeat), "--conf", str(DEV_CONF)]
        if corpus:
            cmd += ["--corpus", *corpus]
        if limit:
            cmd += ["--limit", str(limit)]
    if results:
        cmd += ["--json", results]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")) if p)}
    if subprocess.run(cmd, env=env).returncode != 0:
        raise Exit("bench failed", code=1)


@task(help={"nvcc": "also pack nvcc from PyPI's nvidia wheels (about 34 MiB more), for a "
                    "GPU machine without one"})
def gpucheck(c: Context, nvcc: bool = False) -> None:
    """Prepare the GPU check: .cache/gpucheck/ (scripts, offline wheels) and the egg-info.

    Prints the sizes, the paths to carry to the GPU machine and the command to run there
    (bash .cache/gpucheck/run.sh); see README.md, "The GPU check"."""
    from execblog.sitetasks import gpucheck as check

    try:
        if check.prep(ROOT, nvcc=nvcc) > check.LIMIT_BYTES:
            raise Exit(f"more than {check.mib(check.LIMIT_BYTES)} would travel"
                       + (" (leave out --nvcc)" if nvcc else ""), code=1)
    except (RuntimeError, ValueError) as exc:
        raise Exit(f"gpucheck: {exc}", code=1) from None


@task(iterable=["set"], help={
    "content": BUILD_HELP["content"],
    "output": "audit this already built site as it is (default: build one with "
              "publishconf.py into a temporary folder)",
    "set": BUILD_HELP["set"],
    "results": "where to write the JSON summary (default test-artifacts/audit.json; each "
               "page's full report goes to lighthouse/ beside it)",
    "strict": "exit 1 when a page misses a target (performance >= 95, the others 100)",
})
def audit(c: Context, content: str | None = None, output: str | None = None,
          set: list[str] | None = None, results: str | None = None,
          strict: bool = False) -> None:
    """Lighthouse 12.2.3 (mobile) on the home page and every post: the four scores, CLS, TBT."""
    from execblog.sitetasks.audit import audit as run_audit

    run_audit(PUBLISH_CONF, _path(content, DEFAULT_CONTENT), ROOT,
              output=_path(output, DEFAULT_OUTPUT) if output else None,
              overrides=parse_overrides(set),
              results=_path(results, ROOT / "test-artifacts" / "audit.json"), strict=strict)
