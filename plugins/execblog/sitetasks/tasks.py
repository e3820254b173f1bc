"""Execblog's invoke tasks for any blog: build, rebuild, clean, prune, serve, livereload, new,
publish. A blog's ``tasks.py`` makes them its own in one line::

    from pathlib import Path
    from execblog.sitetasks.tasks import site_tasks

    ns = site_tasks(Path(__file__).resolve().parent)

That folder is the blog's root: ``pelicanconf.py``, ``publishconf.py``, ``content/`` and
``output/`` (or the folders ``PATH`` and ``OUTPUT_PATH`` name) are found there, and Pelican
runs there (relative settings such as the fence cache are relative to it), so the tasks
work from any directory (``invoke -r BLOG build``). A collection made without a root uses
the current working directory.

Pelican always runs as a subprocess of the current interpreter, so a failing build is a
non-zero exit status, never a half-built process state. The logic lives beside this module
(pelican_cli, publishing, preview, newpost); the tasks only resolve paths and call it.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from invoke import Collection, Context, task
from invoke.exceptions import Exit

from . import newpost, publishing
from .pelican_cli import fence_mode, parse_overrides, read_settings, run_pelican
from .targets import DEPLOY_METHODS, DeployOptions, resolve

CONFIG_KEY = "execblog"  # invoke configuration: {"execblog": {"root": "/path/to/blog"}}

BUILD_HELP = {
    "content": "content folder (default: PATH, else content/ next to tasks.py)",
    "output": "output folder (default: OUTPUT_PATH, else output/ next to tasks.py)",
    "set": "KEY=VALUE setting override, repeatable (value in JSON; a bare word is a string)",
    "frozen": "execute no fence: use the cache only, a missing entry is an error",
    "rerun": "ignore the fence cache and run every fence",
}
EXECUTOR_HELP = ("where sessions run: local (default) or a Dask scheduler address "
                 "(tcp://host:8786); sets FENCES_EXECUTOR")
PREVIEW_HELP = {**BUILD_HELP, "port": "port (default 8000)",
                "bind": "address to listen on (default 127.0.0.1)"}


@dataclass(frozen=True)
class Blog:
    """A blog's folder and the files the tasks use in it."""

    root: Path

    @property
    def dev_conf(self) -> Path:
        return self.root / "pelicanconf.py"

    @property
    def publish_conf(self) -> Path:
        return self.root / "publishconf.py"

    def content(self, value: str | None = None) -> Path:
        """``value`` (from the working directory), else PATH, else content/."""
        return resolve(value, self._configured("PATH", "content"))

    def output(self, value: str | None = None) -> Path:
        """``value`` (from the working directory), else OUTPUT_PATH, else output/."""
        return resolve(value, self._configured("OUTPUT_PATH", "output"))

    def _configured(self, setting: str, default: str) -> Path:
        """A folder pelicanconf.py names (relative to the blog), else ``default`` in it."""
        return (self.root / str(self._settings.get(setting) or default)).resolve()

    @functools.cached_property
    def _settings(self) -> dict[str, Any]:
        return publishing.file_settings(self.dev_conf, {}) or {}


def blog(c: Context) -> Blog:
    """The blog the tasks run on: the collection's configured root, else the working
    directory."""
    root = (c.config.get(CONFIG_KEY) or {}).get("root")
    return Blog(Path(root) if root else Path.cwd().resolve())


def site_tasks(root: Path | None = None) -> Collection:
    """Execblog's site tasks as an invoke collection working on the blog at ``root``."""
    ns = Collection(build, rebuild, clean, prune, serve, livereload, new, publish)
    if root is not None:
        ns.configure({CONFIG_KEY: {"root": str(Path(root).resolve())}})
    return ns


def _build(site: Blog, content: str | None, output: str | None, set: list[str] | None,
           frozen: bool, rerun: bool, executor: str | None = None) -> Path:
    out = site.output(output)
    overrides = {**parse_overrides(set), **fence_mode(frozen, rerun)}
    if executor:
        overrides["FENCES_EXECUTOR"] = executor
    run_pelican(site.dev_conf, site.content(content), out, overrides, site.root)
    return out


@task(iterable=["set"], help={**BUILD_HELP, "executor": EXECUTOR_HELP})
def build(c: Context, content: str | None = None, output: str | None = None,
          set: list[str] | None = None, frozen: bool = False,
          rerun: bool = False, executor: str | None = None) -> None:
    """Development build (pelicanconf.py): failing fences render error blocks."""
    _build(blog(c), content, output, set, frozen, rerun, executor)


@task(iterable=["set"], help={k: BUILD_HELP[k] for k in ("content", "output", "set")})
def prune(c: Context, content: str | None = None, output: str | None = None,
          set: list[str] | None = None) -> None:
    """Build, then delete the fence-cache entries and figures that this build did not use.

    Every edit leaves the old result behind; run this before committing fence-cache/."""
    site = blog(c)
    started = time.time() - 1  # mtimes may be coarser than the clock
    _build(site, content, output, set, frozen=False, rerun=False)
    print(publishing.prune_cache(read_settings(site.dev_conf, parse_overrides(set)),
                                 site.root, since=started))


@task(help={"output": BUILD_HELP["output"]})
def clean(c: Context, output: str | None = None) -> None:
    """Remove the output folder."""
    out = blog(c).output(output)
    if out.exists():
        shutil.rmtree(out)
        print(f"Removed {out}")


@task(iterable=["set"], help=BUILD_HELP)
def rebuild(c: Context, content: str | None = None, output: str | None = None,
            set: list[str] | None = None, frozen: bool = False,
            rerun: bool = False) -> None:
    """Clean, then build."""
    clean(c, output=output)
    _build(blog(c), content, output, set, frozen, rerun)


def _preview(site: Blog, content: str | None, output: str | None, set: list[str] | None,
             frozen: bool, rerun: bool, port: int, bind: str) -> None:
    """The long-lived preview (sitetasks/preview.py); Ctrl-C stops it."""
    from . import preview

    content_path = site.content(content)
    if not content_path.is_dir():
        raise Exit(f"content folder not found: {content_path}", code=1)
    preview.run(site.dev_conf, content_path, site.output(output),
                {**parse_overrides(set), **fence_mode(frozen, rerun)}, site.root, bind, port)


@task(iterable=["set"], help={**PREVIEW_HELP,
                              "watch": "rebuild on every change and reload the browser "
                                       "(the same as `invoke livereload`)"})
def serve(c: Context, output: str | None = None, port: int = 8000,
          bind: str = "127.0.0.1", watch: bool = False, content: str | None = None,
          set: list[str] | None = None, frozen: bool = False, rerun: bool = False) -> None:
    """Serve the output folder with Pelican's web server (--watch: the live preview)."""
    site = blog(c)
    if watch:
        _preview(site, content, output, set, frozen, rerun, port, bind)
        return
    out = site.output(output)
    if not out.is_dir():
        raise Exit(f"nothing to serve: {out} does not exist (run `invoke build`)", code=1)
    cmd = [sys.executable, "-m", "pelican", "--listen", "-s", str(site.dev_conf), "-o",
           str(out), "-p", str(port), "-b", bind]
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(cmd, cwd=site.root)


@task(iterable=["set"], help=PREVIEW_HELP)
def livereload(c: Context, content: str | None = None, output: str | None = None,
               set: list[str] | None = None, frozen: bool = False,
               rerun: bool = False, port: int = 8000, bind: str = "127.0.0.1") -> None:
    """Build, serve, rebuild in-process on save; reload a page only when it changed.

    One process keeps Pelican, the fence engine and its fork server alive; a failed
    rebuild's located errors show in an overlay on the page; a change to Python code under
    the blog's plugins/ restarts the process."""
    _preview(blog(c), content, output, set, frozen, rerun, port, bind)


@task(help={"title": "the post's title",
            "tags": f"comma-separated tags (default: {newpost.DEFAULT_TAGS!r}, a placeholder)",
            "content": BUILD_HELP["content"]})
def new(c: Context, title: str, tags: str = newpost.DEFAULT_TAGS,
        content: str | None = None) -> None:
    """New draft post content/posts/YYYY-MM-DD-slug.md, with tags and an example fence.

    Never overwrites a file. `invoke build` writes drafts to drafts/SLUG.html, off the home
    page, feeds, sitemap and search; `invoke publish` leaves them out. Delete the
    `Status: draft` line to publish."""
    site = blog(c)
    timezone = read_settings(site.dev_conf, {}).get("TIMEZONE") or "UTC"
    print(f"Created {newpost.write_draft(site.content(content), title, tags, timezone)}")


@task(iterable=["set"], help={
    **BUILD_HELP,
    "method": "deploy method: " + ", ".join(DEPLOY_METHODS)
              + " (default: DEPLOY_METHOD)",
    "repository": "git repository for ghp-import (default: DEPLOY_REPOSITORY, else the blog's "
                  "folder)",
    "branch": "branch for ghp-import (default: DEPLOY_BRANCH)",
    "remote": "remote to push the branch to (default: DEPLOY_REMOTE)",
    "push": "push the branch to the remote (default: DEPLOY_PUSH)",
    "directory": "target folder for the directory method (default: DEPLOY_DIRECTORY)",
    "rsync_target": "destination for the rsync method, e.g. me@host:/var/www/blog/ "
                    "(default: DEPLOY_RSYNC_TARGET)",
})
def publish(c: Context, content: str | None = None, output: str | None = None,
            set: list[str] | None = None, frozen: bool = False,
            rerun: bool = False, method: str | None = None, repository: str | None = None,
            branch: str | None = None, remote: str | None = None, push: bool = False,
            directory: str | None = None, rsync_target: str | None = None) -> None:
    """Strict build (publishconf.py); if it succeeds, swap it into the output and deploy.

    SITEURL and the deploy target must be set (checked before the build). A failed or
    interrupted build changes nothing: neither the output folder nor the deploy target.
    Success is Pelican's exit status 0 *and* a build record with this build's id. Drafts and
    hidden content are not published; a second publish of the site waits for the first; the
    swaps never leave the output or deploy folder missing."""
    site = blog(c)
    publishing.publish_site(
        site.publish_conf, site.content(content), site.output(output),
        {**parse_overrides(set), **fence_mode(frozen, rerun)}, site.root,
        options=DeployOptions(method=method, repository=repository, branch=branch,
                              remote=remote, push=push, directory=directory,
                              rsync_target=rsync_target))
