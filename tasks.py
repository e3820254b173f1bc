"""Site tasks: `invoke --list` shows them; README.md ("Tasks", "Publishing") describes them.

Every path defaults to this file's folder, so the tasks work from any directory
(`invoke -r /path/to/repo build`). Pelican always runs as a subprocess of the current
interpreter, so a failing build is a non-zero exit status, never a half-built process state.

`publish` never exposes a half-written site: it builds into a fresh folder next to the
output folder (same filesystem, so renames are atomic), and only when Pelican succeeds and
the build record it wrote says this very build finished with every page written does it
rename the old output aside, rename the new one in, delete the old one, and deploy.
Ctrl-C (or SIGTERM) stops the build, removes the staging folder and exits 130.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from invoke import Context, task
from invoke.exceptions import Exit

ROOT = Path(__file__).resolve().parent
DEV_CONF = ROOT / "pelicanconf.py"
PUBLISH_CONF = ROOT / "publishconf.py"
DEFAULT_CONTENT = ROOT / "content"
DEFAULT_OUTPUT = ROOT / "output"
DEPLOY_METHODS = ("ghp-import", "directory")
INTERRUPT_GRACE = 10.0  # seconds Pelican gets to stop its fences after Ctrl-C or SIGTERM

BUILD_HELP = {
    "content": "content folder (default: content/ next to tasks.py)",
    "output": "output folder (default: output/ next to tasks.py)",
    "set": "KEY=VALUE setting override, repeatable (value in JSON; a bare word is a string)",
    "frozen": "execute no fence: use the cache only, a missing entry is an error",
    "rerun": "ignore the fence cache and run every fence",
}


# --- helpers -------------------------------------------------------------------------------


class Interrupted(Exit):
    """Ctrl-C or SIGTERM during a build, raised once the build process has ended."""

    def __init__(self) -> None:
        super().__init__("interrupted: the build was stopped", code=130)


def _path(value: str | None, default: Path) -> Path:
    """An absolute path: relative values are taken from the caller's working directory."""
    return Path(value).expanduser().resolve() if value else default


def parse_overrides(items: Iterable[str] | None) -> dict[str, Any]:
    """`KEY=VALUE` strings -> settings. Values are JSON as with `pelican -e`; a value that is
    not valid JSON (e.g. a path) is taken as a plain string."""
    overrides: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise Exit(f"--set wants KEY=VALUE, got {item!r}", code=2)
        try:
            overrides[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key.strip()] = raw
    return overrides


def _mode(frozen: bool, rerun: bool) -> dict[str, str]:
    if frozen and rerun:
        raise Exit("--frozen and --rerun exclude each other", code=2)
    if frozen:
        return {"FENCES_MODE": "frozen"}
    if rerun:
        return {"FENCES_MODE": "rerun"}
    return {}


def pelican_command(
    conf: Path, content: Path, output: Path, overrides: dict[str, Any]
) -> list[str]:
    """The Pelican CLI call. All overrides go in one `-e`: Pelican keeps only the last one."""
    cmd = [sys.executable, "-m", "pelican", str(content), "-s", str(conf), "-o", str(output)]
    if overrides:
        cmd += ["-e", *(f"{key}={json.dumps(value)}" for key, value in overrides.items())]
    return cmd


def run_pelican(conf: Path, content: Path, output: Path, overrides: dict[str, Any]) -> None:
    """Build the site; raise Exit (non-zero) when Pelican fails, Interrupted on Ctrl-C."""
    if not content.is_dir():
        raise Exit(f"content folder not found: {content}", code=1)
    with _terminate_as_interrupt():
        code = _wait(subprocess.Popen(pelican_command(conf, content, output, overrides),
                                      cwd=ROOT))
    if code != 0:
        raise Exit(f"pelican failed (exit status {code}): see the log above",
                   code=128 - code if code < 0 else code)  # killed by signal N: 128 + N


def _wait(proc: subprocess.Popen[bytes]) -> int:
    """The exit status of ``proc``. On Ctrl-C it gets a second to stop by itself (a
    terminal's Ctrl-C reaches it too), then SIGTERM and INTERRUPT_GRACE seconds, then
    SIGKILL (at once on a second Ctrl-C); then Interrupted is raised."""
    try:
        return proc.wait()
    except KeyboardInterrupt:
        try:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1)
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=INTERRUPT_GRACE)
        except (KeyboardInterrupt, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        raise Interrupted from None


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM to this process (a CI job cancelled) like Ctrl-C."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _import_plugins() -> None:
    """Make plugins/ importable here, as Pelican's PLUGIN_PATHS does for the build."""
    if str(ROOT / "plugins") not in sys.path:
        sys.path.insert(0, str(ROOT / "plugins"))


def cache_root(settings: dict[str, Any]) -> Path:
    """The build's fence cache folder (a relative one is relative to ROOT, where Pelican
    runs)."""
    _import_plugins()
    from fences.site_errors import cache_root as fences_cache_root

    return fences_cache_root(settings, ROOT)


def verify_build(settings: dict[str, Any], build_id: str) -> None:
    """Raise Exit unless the build that just ran recorded that it finished with every page
    written. Pelican can exit 0 having written nothing (stopped by a signal, say); then the
    record is missing or another build's."""
    _import_plugins()
    from fences.report import report_path
    from fences.site_errors import BUILD_RECORD

    root = cache_root(settings)
    path = root / BUILD_RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Exit(f"not publishing: the build did not finish ({path} is missing)",
                   code=1) from None
    except (OSError, ValueError) as exc:
        raise Exit(f"not publishing: cannot read the build record {path}: {exc}",
                   code=1) from None
    if record.get("build_id") != build_id:
        raise Exit(f"not publishing: the build did not finish ({path} is from build "
                   f"{record.get('build_id')!r}, not this build {build_id!r})", code=1)
    problems = []
    if record.get("complete") is not True:
        problems.append(f"{path} does not say the build completed")
    if record.get("missing"):
        problems.append(f"pages missing from the output: {', '.join(record['missing'])}")
    report = ROOT / report_path(settings, root)
    try:
        fences = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    except (OSError, ValueError) as exc:
        fences = {}
        problems.append(f"cannot read the fence report {report}: {exc}")
    if fences and fences.get("build_id") != build_id:
        problems.append(f"the fence report {report} is from build {fences.get('build_id')!r}")
    if problems:
        raise Exit("not publishing: " + "; ".join(problems), code=1)


def _build(content: str | None, output: str | None, set: list[str] | None,
           frozen: bool, rerun: bool) -> Path:
    out = _path(output, DEFAULT_OUTPUT)
    overrides = {**parse_overrides(set), **_mode(frozen, rerun)}
    run_pelican(DEV_CONF, _path(content, DEFAULT_CONTENT), out, overrides)
    return out


def _staging_dir(target: Path, tag: str) -> Path:
    """A fresh, empty, world-readable folder next to target (same filesystem)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.{tag}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes 0700; a published site must stay readable
    return staging


def replace_dir(new: Path, target: Path) -> None:
    """Put the folder `new` at `target`. The old target is renamed aside, the new one renamed
    in, then the old one deleted: target is always either the whole old or the whole new."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        target.rename(old)
    try:
        new.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old)


def read_settings(conf: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """A settings file as Pelican sees it, with the --set overrides applied. Quiet: the
    warnings Pelican logs about settings belong to (and already appear in) the build log."""
    from pelican.settings import read_settings as pelican_read_settings

    logger = logging.getLogger("pelican")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return pelican_read_settings(str(conf), override=overrides)
    finally:
        logger.setLevel(level)


def deploy_ghp_import(site: Path, repository: Path, branch: str, remote: str,
                      push: bool) -> None:
    """Commit `site` as the whole content of `branch` in `repository`; push if asked."""
    from ghp_import import GhpError, ghp_import

    def head() -> str | None:
        proc = subprocess.run(["git", "-C", str(repository), "rev-parse", "--verify", "-q",
                               f"refs/heads/{branch}"], capture_output=True, text=True)
        return proc.stdout.strip() or None

    before = head()
    message = f"Publish site ({datetime.now().astimezone():%Y-%m-%d %H:%M %Z})"
    try:
        with contextlib.chdir(repository):  # ghp-import works on the current directory's repo
            ghp_import(str(site), mesg=message, branch=branch, remote=remote, push=push,
                       nojekyll=True)
    except (GhpError, subprocess.CalledProcessError, OSError) as exc:
        raise Exit(f"ghp-import to {repository} (branch {branch}) failed: {exc}",
                   code=1) from exc
    if head() in (None, before):  # ghp-import only prints when `git fast-import` fails
        raise Exit(f"ghp-import made no commit on {branch} in {repository}", code=1)
    print(f"Deployed to branch {branch} of {repository}" + (f", pushed to {remote}" if push
                                                            else ""))


def deploy_directory(site: Path, directory: Path) -> None:
    """Replace `directory` with a copy of `site`, atomically (see replace_dir)."""
    staging = _staging_dir(directory, "new")
    try:
        shutil.copytree(site, staging, dirs_exist_ok=True)
        replace_dir(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"Deployed to {directory}")


# --- tasks ---------------------------------------------------------------------------------


@task(iterable=["set"], help=BUILD_HELP)
def build(c: Context, content: str | None = None, output: str | None = None,
          set: list[str] | None = None, frozen: bool = False,
          rerun: bool = False) -> None:
    """Development build (pelicanconf.py): failing fences render error blocks."""
    _build(content, output, set, frozen, rerun)


@task(iterable=["set"], help={k: BUILD_HELP[k] for k in ("content", "output", "set")})
def prune(c: Context, content: str | None = None, output: str | None = None,
          set: list[str] | None = None) -> None:
    """Build, then delete the fence-cache entries and figures that this build did not use.

    Every edit leaves the old result behind; run this before committing fence-cache/."""
    _import_plugins()
    from fences.cache import Cache
    from fences.report import report_path

    _build(content, output, set, frozen=False, rerun=False)
    settings = read_settings(DEV_CONF, parse_overrides(set))
    root = cache_root(settings)
    report = ROOT / report_path(settings, root)
    keys = [fence["key"] for fence in json.loads(report.read_text())["fences"]]
    stats = Cache(root).prune(keys)
    print(f"prune: kept {stats.kept} entries; removed {stats.entries} entries and "
          f"{stats.blobs} blobs ({stats.bytes / 1e6:.2f} MB) from {root}")


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


@task(help={"output": BUILD_HELP["output"], "port": "port (default 8000)",
            "bind": "address to listen on (default 127.0.0.1)"})
def serve(c: Context, output: str | None = None, port: int = 8000,
          bind: str = "127.0.0.1") -> None:
    """Serve the output folder with Pelican's web server."""
    out = _path(output, DEFAULT_OUTPUT)
    if not out.is_dir():
        raise Exit(f"nothing to serve: {out} does not exist (run `invoke build`)", code=1)
    cmd = [sys.executable, "-m", "pelican", "--listen", "-s", str(DEV_CONF), "-o", str(out),
           "-p", str(port), "-b", bind]
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(cmd, cwd=ROOT)


@task(iterable=["set"], help={**BUILD_HELP, "port": "port (default 8000)",
                              "bind": "address to listen on (default 127.0.0.1)"})
def livereload(c: Context, content: str | None = None, output: str | None = None,
               set: list[str] | None = None, frozen: bool = False,
               rerun: bool = False, port: int = 8000, bind: str = "127.0.0.1") -> None:
    """Build, serve, rebuild and reload on every change to content, theme or plugins."""
    from livereload import Server

    def rebuild_quietly() -> None:
        try:
            _build(content, output, set, frozen, rerun)
        except Interrupted:
            raise
        except Exit as exc:  # keep serving the last good build; the log says what failed
            print(f"build failed: {exc.message}", file=sys.stderr)

    rebuild_quietly()
    server = Server()
    for watched in (_path(content, DEFAULT_CONTENT), ROOT / "theme", ROOT / "plugins",
                    DEV_CONF, PUBLISH_CONF):
        server.watch(str(watched), rebuild_quietly, ignore=lambda p: "__pycache__" in p)
    server.serve(root=str(_path(output, DEFAULT_OUTPUT)), port=port, host=bind)


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

    Drafts are built to drafts/SLUG.html, off the home page and feeds; delete the
    `Status: draft` line to publish the post."""
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
    target. Success is Pelican's exit status 0 *and* a build record with this build's id."""
    out = _path(output, DEFAULT_OUTPUT)
    src = _path(content, DEFAULT_CONTENT)
    build_id = uuid.uuid4().hex
    overrides = {**parse_overrides(set), **_mode(frozen, rerun), "FENCES_BUILD_ID": build_id}
    with _terminate_as_interrupt():  # SIGTERM too: the staging folder is removed
        staging = _staging_dir(out, "new")
        try:
            run_pelican(PUBLISH_CONF, src, staging, overrides)
            # Read after the build: Pelican has already reported any bad setting in its log.
            settings = read_settings(PUBLISH_CONF, {**overrides, "PATH": str(src)})
            verify_build(settings, build_id)
            chosen = method or settings.get("DEPLOY_METHOD", "ghp-import")
            if chosen not in DEPLOY_METHODS:
                raise Exit(f"unknown deploy method {chosen!r}; choose one of "
                           f"{', '.join(DEPLOY_METHODS)}", code=2)
            target = _path(directory, Path(settings["DEPLOY_DIRECTORY"]))
            if chosen == "directory" and target in (out, *out.parents):
                raise Exit(f"DEPLOY_DIRECTORY {target} would contain the output folder", code=2)
            replace_dir(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        print(f"Built {out}")
        if chosen == "directory":
            deploy_directory(out, target)
        else:
            deploy_ghp_import(out, _path(repository, Path(settings["DEPLOY_REPOSITORY"])),
                              branch or settings["DEPLOY_BRANCH"],
                              remote or settings["DEPLOY_REMOTE"],
                              push or bool(settings.get("DEPLOY_PUSH")))


@task(help={"posts": "posts in the synthetic site (default 40)",
            "repeat": "runs of the plain and warm builds; the best is kept (default 3)",
            "results": "where to write the JSON results (default output/bench.json)"})
def bench(c: Context, posts: int = 40, repeat: int = 3, results: str | None = None) -> None:
    """Measure plain, cold, warm and one-edit builds of a synthetic site, in one run."""
    cmd = [sys.executable, "-m", "fences.perf", "--posts", str(posts), "--repeat", str(repeat)]
    if results:
        cmd += ["--json", results]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")) if p)}
    if subprocess.run(cmd, env=env).returncode != 0:
        raise Exit("bench failed", code=1)
