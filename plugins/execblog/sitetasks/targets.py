"""Where a publish goes: SITEURL and the deploy target, checked before anything is built,
and the rsync deploy.

Nothing is guessed. ``SITEURL`` must be an absolute http(s) URL, and the target must be
named: ``DEPLOY_METHOD`` ``"ghp-import"`` (a branch of a git repository, pushed to a remote
when asked), ``"directory"`` (``DEPLOY_DIRECTORY``, replaced in one step by publishing.py) or
``"rsync"`` (``DEPLOY_RSYNC_TARGET``, with the rsync program). A missing or wrong one is an
:class:`invoke.exceptions.Exit` (status 2) naming the setting and the file to set it in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from invoke.exceptions import Exit

DEPLOY_METHODS = ("ghp-import", "directory", "rsync")


def resolve(value: str | None, default: Path) -> Path:
    """An absolute path: relative values are taken from the caller's working directory."""
    return Path(value).expanduser().resolve() if value else default


def real_path(path: Path) -> Path:
    """``path`` with symlinks resolved: a symlinked output or deploy folder keeps its link,
    and the folder it points to is the one replaced."""
    return Path(os.path.realpath(path))


def known_method(method: str) -> None:
    """Raise Exit (2) for a deploy method that is not one of DEPLOY_METHODS."""
    if method not in DEPLOY_METHODS:
        raise Exit(f"unknown deploy method {method!r}; choose one of "
                   f"{', '.join(DEPLOY_METHODS)}", code=2)


def check_method(method: str, target: Path, output: Path) -> None:
    """Raise Exit (2) for an unknown deploy method, or a deploy folder that would contain
    (or be) the output folder."""
    known_method(method)
    if method in ("directory", "rsync") and target in (output, *output.parents):
        setting = "DEPLOY_DIRECTORY" if method == "directory" else "DEPLOY_RSYNC_TARGET"
        raise Exit(f"{setting} {target} would contain the output folder", code=2)


def require_siteurl(settings: dict[str, Any], conf: Path) -> str:
    """SITEURL, which must be an absolute http(s) URL (the sitemap, the feeds and every
    absolute link are made from it); else Exit (2) saying where to set it."""
    siteurl = str(settings.get("SITEURL") or "").strip()
    parts = urlsplit(siteurl)
    if parts.scheme in ("http", "https") and parts.netloc:
        return siteurl
    what = "empty" if not siteurl else f"{siteurl!r}, not an absolute http(s) URL"
    raise Exit(f"not publishing: SITEURL is {what}. Set it in {conf} to the address readers "
               f'will see, e.g. SITEURL = "https://you.github.io/blog" (or pass '
               "--set SITEURL=https://...): the sitemap, feeds and links are made from it",
               code=2)


@dataclass(frozen=True)
class DeployOptions:
    """The deploy options given on the command line; None (False for push): the setting."""

    method: str | None = None
    repository: str | None = None
    branch: str | None = None
    remote: str | None = None
    push: bool = False
    directory: str | None = None
    rsync_target: str | None = None


@dataclass(frozen=True)
class Target:
    """Where a publish deploys, resolved and checked before anything is built."""

    method: str
    directory: Path | None = None  # directory
    repository: Path | None = None  # ghp-import
    branch: str = ""
    remote: str = ""
    push: bool = False
    rsync: str = ""  # rsync

    def unchanged(self) -> str:
        """What an interruption before the deploy leaves: for the one line on Ctrl-C."""
        if self.method == "directory":
            return f"nothing was deployed ({self.directory} is unchanged)"
        if self.method == "rsync":
            return (f"{self.rsync} is unchanged, or partly updated if rsync had started: "
                    "publish again")
        return f"branch {self.branch} of {self.repository} holds the old site or the whole new one"


def _unset(setting: str, conf: Path, example: str, option: str) -> Exit:
    return Exit(f"not publishing: {setting} is not set: set it in {conf} "
                f"({setting} = {example}) or pass {option}", code=2)


def deploy_target(settings: dict[str, Any], conf: Path, root: Path, output: Path,
                  options: DeployOptions) -> Target:
    """The deploy target the options and settings name, checked (Exit 2 naming the setting
    when one is missing or wrong). Paths in settings are relative to ``root``, those on the
    command line to the working directory."""
    method = options.method or settings.get("DEPLOY_METHOD")
    if not method:
        raise _unset("DEPLOY_METHOD", conf, '"ghp-import", "directory" or "rsync"', "--method")
    known_method(method)
    if method == "directory":
        value = options.directory or settings.get("DEPLOY_DIRECTORY")
        if not value:
            raise _unset("DEPLOY_DIRECTORY", conf, '"/var/www/blog"', "--directory")
        folder = real_path(resolve(options.directory, root / str(value)))
        check_method(method, folder, output)
        return Target(method, directory=folder)
    if method == "rsync":
        target = str(options.rsync_target or settings.get("DEPLOY_RSYNC_TARGET") or "")
        if not target:
            raise _unset("DEPLOY_RSYNC_TARGET", conf, '"me@host:/var/www/blog/"',
                         "--rsync-target")
        if shutil.which("rsync") is None:
            raise Exit("not publishing: DEPLOY_METHOD rsync needs the rsync program, which is "
                       "not on PATH (install it, e.g. apt install rsync)", code=2)
        local = rsync_local_path(target)
        if local is not None:
            check_method(method, local, output)
        return Target(method, rsync=target)
    repository = resolve(options.repository,
                         root / str(settings.get("DEPLOY_REPOSITORY") or root))
    remote = options.remote or settings.get("DEPLOY_REMOTE") or "origin"
    push = options.push or bool(settings.get("DEPLOY_PUSH"))
    _check_git(repository, remote if push else None)
    return Target(method, repository=repository,
                  branch=options.branch or settings.get("DEPLOY_BRANCH") or "gh-pages",
                  remote=remote, push=push)


def _check_git(repository: Path, remote: str | None) -> None:
    """Exit (2) unless ``repository`` is a git repository (with ``remote``, when given)."""
    def git(*args: str) -> bool:
        return subprocess.run(["git", "-C", str(repository), *args],
                              capture_output=True).returncode == 0

    if not repository.is_dir() or not git("rev-parse", "--git-dir"):
        raise Exit(f"not publishing: DEPLOY_REPOSITORY {repository} is not a git repository "
                   "(run `git init` there, or choose another DEPLOY_METHOD)", code=2)
    if remote and not git("remote", "get-url", remote):
        raise Exit(f"not publishing: DEPLOY_REMOTE {remote!r} is not a remote of {repository} "
                   f"(git remote add {remote} URL)", code=2)


RSYNC_OPTIONS = ("--recursive", "--links", "--perms", "--times",
                 # the new files are renamed into place together at the end, then the
                 # files the site no longer has are deleted: the shortest mixed moment
                 "--delay-updates", "--delete-after")


def rsync_command(site: Path, target: str) -> list[str]:
    """rsync's command line that makes ``target`` a copy of the folder ``site``."""
    return ["rsync", *RSYNC_OPTIONS, f"{site}/", target]


def deploy_rsync(site: Path, target: str) -> None:
    """Make ``target`` (``[user@]host:path`` or a local folder) a copy of ``site`` with the
    rsync program."""
    code = subprocess.run(rsync_command(site, target)).returncode
    if code != 0:
        raise Exit(f"rsync to {target} failed (exit status {code}): see its message above",
                   code=1)
    print(f"Deployed to {target} (rsync)")


def rsync_local_path(target: str) -> Path | None:
    """The folder an rsync target names on this machine, or None for a remote one
    (``host:path``, ``rsync://``: rsync's rule is a colon before any slash)."""
    if target.startswith("rsync://"):
        return None
    head = target.split("/", 1)[0]
    return None if ":" in head else Path(target).expanduser().resolve()
