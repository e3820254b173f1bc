"""This repository's tasks: `invoke --list` shows them; the docs (CLI) describe them.

The site tasks (build, rebuild, clean, prune, serve, livereload, new, publish) are Execblog's
own, shared with every blog (execblog.sitetasks.tasks), working on this folder: a blog made
by `execblog init` has the same tasks.py, less the tasks below that only this repository
has (bench, gpucheck, audit, docs), whose code is in tools/ (not installed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from invoke import Context, task
from invoke.exceptions import Exit

ROOT = Path(__file__).resolve().parent
# plugins/ as Pelican's PLUGIN_PATHS does for the build; the checkout for tools/, this
# repository's own tooling (not installed): the same paths go to the tasks' subprocesses
PATHS = [str(ROOT / "plugins"), str(ROOT)]
sys.path[:0] = [p for p in PATHS if p not in sys.path]

from execblog.sitetasks.pelican_cli import parse_overrides  # noqa: E402
from execblog.sitetasks.targets import resolve as _path  # noqa: E402
from execblog.sitetasks.tasks import BUILD_HELP, site_tasks  # noqa: E402

DEV_CONF = ROOT / "pelicanconf.py"
PUBLISH_CONF = ROOT / "publishconf.py"
DEFAULT_CONTENT = ROOT / "content"
DEFAULT_OUTPUT = ROOT / "output"


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
        cmd = [sys.executable, "-m", "tools.preview_bench", "--repeat", str(repeat),
               "--conf", str(DEV_CONF), "--content", str(DEFAULT_CONTENT)]
    else:
        cmd = [sys.executable, "-m", "tools.perf", "--posts", str(posts), "--repeat", str(repeat),
               "--conf", str(DEV_CONF)]
        if corpus:
            cmd += ["--corpus", *corpus]
        if limit:
            cmd += ["--limit", str(limit)]
    if results:
        cmd += ["--json", results]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (*PATHS, os.environ.get("PYTHONPATH", "")) if p)}
    if subprocess.run(cmd, env=env).returncode != 0:
        raise Exit("bench failed", code=1)


@task(help={"nvcc": "also pack nvcc from PyPI's nvidia wheels (about 34 MiB more), for a "
                    "GPU machine without one"})
def gpucheck(c: Context, nvcc: bool = False) -> None:
    """Prepare the GPU check: .cache/gpucheck/ (scripts, offline wheels) and the egg-info.

    Prints the sizes, the paths to carry to the GPU machine and the command to run there
    (bash .cache/gpucheck/run.sh); see docs/content/development.md, "The GPU check"."""
    from tools import gpucheck as check

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
    from tools.audit import audit as run_audit

    run_audit(PUBLISH_CONF, _path(content, DEFAULT_CONTENT), ROOT,
              output=_path(output, DEFAULT_OUTPUT) if output else None,
              overrides=parse_overrides(set),
              results=_path(results, ROOT / "test-artifacts" / "audit.json"), strict=strict)


@task(help={"lenient": "render failing examples as error blocks instead of failing the build"})
def docs(c: Context, lenient: bool = False) -> None:
    """Build the documentation site (docs/) into docs/output/: every example runs, strictly."""
    from tools.docs import build_docs

    status = build_docs(strict=not lenient)
    if status != 0:
        raise Exit(f"docs: the build failed (exit {status})", code=status)
    print(f"docs: open {ROOT / 'docs' / 'output' / 'index.html'}")


ns = site_tasks(ROOT)
for repo_task in (bench, gpucheck, audit, docs):
    ns.add_task(repo_task)
