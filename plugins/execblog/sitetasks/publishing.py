"""Publishing: build into a staging folder, check the build record, swap it in, deploy.

Nothing half-written is ever exposed: the staging folder sits next to the output folder
(same filesystem, so renames are atomic), and only a build whose record says it finished
with every page written replaces the output and is deployed. Also ``prune_cache``, which
drops the fence-cache entries the last build did not use.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from invoke.exceptions import Exit

from .pelican_cli import read_settings, run_pelican, terminate_as_interrupt

DEPLOY_METHODS = ("ghp-import", "directory")


def resolve(value: str | None, default: Path) -> Path:
    """An absolute path: relative values are taken from the caller's working directory."""
    return Path(value).expanduser().resolve() if value else default


def staging_dir(target: Path, tag: str) -> Path:
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


def cache_root(settings: dict[str, Any], root: Path) -> Path:
    """The build's fence cache folder (a relative one is relative to ``root``, where Pelican
    runs)."""
    from execblog.fences.site_errors import cache_root as fences_cache_root

    return fences_cache_root(settings, root)


def _report_file(settings: dict[str, Any], root: Path) -> Path:
    from execblog.fences.report import report_path

    return root / report_path(settings, cache_root(settings, root))


def verify_build(settings: dict[str, Any], build_id: str, root: Path) -> None:
    """Raise Exit unless the build that just ran recorded that it finished with every page
    written. Pelican can exit 0 having written nothing (stopped by a signal, say); then the
    record is missing or another build's."""
    from execblog.fences.site_errors import BUILD_RECORD

    path = cache_root(settings, root) / BUILD_RECORD
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
    report = _report_file(settings, root)
    try:
        fences = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    except (OSError, ValueError) as exc:
        fences = {}
        problems.append(f"cannot read the fence report {report}: {exc}")
    if fences and fences.get("build_id") != build_id:
        problems.append(f"the fence report {report} is from build {fences.get('build_id')!r}")
    if problems:
        raise Exit("not publishing: " + "; ".join(problems), code=1)


# Files a build derives from results and keeps to save work (dark figures, notebooks,
# highlighted sources); a build marks each one it uses (fences.cache.touch).
DERIVED = (("variants", "*"), ("notebooks", "*/*.ipynb"), ("highlight", "*.html"))


def prune_cache(settings: dict[str, Any], root: Path, since: float | None = None) -> str:
    """Delete the fence-cache entries and blobs that the last build's report does not list,
    and (given ``since``, when that build started) the derived files it did not use; return
    the line that says what was kept and removed."""
    from execblog.fences.cache import Cache

    cache = cache_root(settings, root)
    report = json.loads(_report_file(settings, root).read_text())
    stats = Cache(cache).prune(fence["key"] for fence in report["fences"])
    derived = 0
    for folder, pattern in DERIVED if since is not None else ():
        for path in (cache / folder).glob(pattern):
            with contextlib.suppress(OSError):
                if path.is_file() and path.stat().st_mtime < since:
                    path.unlink()
                    derived += 1
    return (f"prune: kept {stats.kept} entries; removed {stats.entries} entries and "
            f"{stats.blobs} blobs ({stats.bytes / 1e6:.2f} MB) and {derived} derived files "
            f"from {cache}")


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
    staging = staging_dir(directory, "new")
    try:
        shutil.copytree(site, staging, dirs_exist_ok=True)
        replace_dir(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"Deployed to {directory}")


def check_method(method: str, target: Path, output: Path) -> None:
    """Raise Exit (2) for an unknown deploy method, or a deploy folder that would contain
    (or be) the output folder."""
    if method not in DEPLOY_METHODS:
        raise Exit(f"unknown deploy method {method!r}; choose one of "
                   f"{', '.join(DEPLOY_METHODS)}", code=2)
    if method == "directory" and target in (output, *output.parents):
        raise Exit(f"DEPLOY_DIRECTORY {target} would contain the output folder", code=2)


def publish_site(conf: Path, content: Path, output: Path, overrides: dict[str, Any],
                 root: Path, *, method: str | None = None, repository: str | None = None,
                 branch: str | None = None, remote: str | None = None, push: bool = False,
                 directory: str | None = None) -> None:
    """Strict build of ``content`` with ``conf`` into a staging folder; if it finished,
    swap it in at ``output`` and deploy (options left None come from the settings)."""
    build_id = uuid.uuid4().hex
    overrides = {**overrides, "FENCES_BUILD_ID": build_id}
    with terminate_as_interrupt():  # SIGTERM too: the staging folder is removed
        staging = staging_dir(output, "new")
        try:
            run_pelican(conf, content, staging, overrides, root)
            # Read after the build: Pelican has already reported any bad setting in its log.
            settings = read_settings(conf, {**overrides, "PATH": str(content)})
            verify_build(settings, build_id, root)
            chosen = method or settings.get("DEPLOY_METHOD", "ghp-import")
            target = resolve(directory, Path(settings["DEPLOY_DIRECTORY"]))
            check_method(chosen, target, output)
            replace_dir(staging, output)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        print(f"Built {output}")
        if chosen == "directory":
            deploy_directory(output, target)
        else:
            deploy_ghp_import(output, resolve(repository, Path(settings["DEPLOY_REPOSITORY"])),
                              branch or settings["DEPLOY_BRANCH"],
                              remote or settings["DEPLOY_REMOTE"],
                              push or bool(settings.get("DEPLOY_PUSH")))
