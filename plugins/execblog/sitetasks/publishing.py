"""Publishing: build into a staging folder, check the build record, swap it in, deploy.

Nothing half-written is ever exposed, and the served folder never goes missing:

* The staging folder sits next to the output folder (same filesystem). Only a build whose
  record says it finished with every page written replaces the output, and the swap is one
  ``renameat2(RENAME_EXCHANGE)`` (Linux 3.15+, on ext4, XFS, Btrfs, tmpfs, ...): the old and
  the new folder trade places in one step, so a reader opening ``output/index.html`` always
  finds one whole site or the other. Where the kernel or filesystem cannot exchange, the old
  folder is renamed aside and the new one renamed in (a moment without the folder), with a
  note saying so. ``DEPLOY_METHOD = "directory"`` deploys the same way.
* Every staging or set-aside folder (``.output.new-*``, ``.output.old-*``, ``.deploy.*``) is
  held with ``flock`` by the publish that made it. A publish first removes such folders left
  by publishes that were killed (none holds them any more), never one a live publish holds.
* Publishes of one site take turns: the first holds ``<FENCES_CACHE_PATH>/publish.lock``
  (``flock``; the folder of the build record both would write) for the whole publish, and a
  second one says ``another publish of this site is running (pid N)`` and waits for it.
* Ctrl-C or SIGTERM at any point exits 130 with one line saying what changed; the swap itself
  runs with both signals held back, so it is never cut in half.
* Nothing is guessed: ``SITEURL`` and the deploy target (targets.py) are checked before the
  build; a missing one stops the publish with one line naming the setting.

``EXECBLOG_PUBLISH_PAUSE="swap:FILE"`` (or ``"deploy:FILE"``) makes a publish stop just before
that step until FILE exists (at most two minutes): a hook for the tests, which signal a
publish at a known point. Also ``prune_cache``, which drops the fence-cache entries the last
build did not use.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from invoke.exceptions import Exit

from execblog.kernel.site_errors import BUILD_RECORD

from .pelican_cli import read_settings, run_pelican, terminate_as_interrupt
from .targets import DeployOptions, Target, deploy_rsync, deploy_target, real_path, require_siteurl

LEFTOVER_TAGS = ("new", "old")  # .<target>.new-*: staging; .<target>.old-*: set aside
LOCK_NAME = "publish.lock"  # in the fence cache folder, next to the build record
PAUSE_ENV = "EXECBLOG_PUBLISH_PAUSE"
PAUSE_MAX_S = 120.0

AT_FDCWD = -100
RENAME_EXCHANGE = 2  # linux/fs.h
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP}


# --- holding folders, swapping them ---------------------------------------------------------


def staging_dir(target: Path, tag: str) -> Path:
    """A fresh, empty, world-readable folder next to target (same filesystem)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.{tag}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes 0700; a published site must stay readable
    return staging


def _hold(path: Path, *, wait: bool = True) -> int | None:
    """An fd on the folder ``path`` holding an exclusive flock on it, or None when it cannot
    be locked (held by another process with ``wait=False``, gone, or no flock here)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        if os.path.samestat(os.fstat(fd), os.lstat(path)):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


@contextlib.contextmanager
def staged(target: Path, tag: str = "new") -> Iterator[Path]:
    """A fresh staging folder next to target, held (flock) while the block runs, so that no
    other publish takes it for a leftover; then removed, whatever it holds by then (nothing
    after a first publish, the old target after a swap, a partial build after a failure)."""
    fd = None
    for _ in range(5):  # a publish cleaning leftovers may take the folder before we hold it
        path = staging_dir(target, tag)
        fd = _hold(path)
        if fd is not None or path.is_dir():  # held, or no flock on this filesystem
            break
    try:
        yield path
    finally:
        try:
            _remove(path)
        finally:
            if fd is not None:
                os.close(fd)


def _remove(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block has run (it is short); then they act."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    except (AttributeError, ValueError, OSError):  # no pthread_sigmask here
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's renameat2, or None (not Linux, or a libc without it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange(a: Path, b: Path) -> bool:
    """Swap the folders at ``a`` and ``b`` in one step (renameat2 RENAME_EXCHANGE): True when
    done, False where the kernel or filesystem cannot; other failures raise OSError."""
    function = _renameat2()
    if function is None:
        return False
    if function(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


_noted: set[Path] = set()


def swap_in(new: Path, target: Path) -> None:
    """Put the folder ``new`` at ``target`` atomically; afterwards ``new`` holds the old target
    (or is gone when there was none). ``target`` is never missing, where the filesystem can
    exchange two names; elsewhere the old target is renamed aside and the new one in."""
    with signals_held():
        if not os.path.lexists(target):
            os.rename(new, target)
            return
        if exchange(new, target):
            return
        if target.parent not in _noted:
            _noted.add(target.parent)
            print(f"publish: note: this filesystem cannot exchange two folders in one step; "
                  f"{target} is missing for a moment while it is replaced", file=sys.stderr,
                  flush=True)
        held = _hold(target)  # so that no other publish takes the set-aside folder
        try:
            aside = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
            target.rename(aside)
            try:
                new.rename(target)
            except OSError:
                aside.rename(target)
                raise
            try:
                aside.rename(new)
            except OSError:
                _remove(aside)
        finally:
            if held is not None:
                os.close(held)


def replace_dir(new: Path, target: Path) -> None:
    """Put the folder ``new`` at ``target`` (see swap_in), then delete the old one: target is
    always either the whole old or the whole new folder."""
    swap_in(new, target)
    if os.path.lexists(new):
        _remove(new)


def clean_leftovers(target: Path) -> list[str]:
    """Remove the staging and set-aside folders next to ``target`` (``.NAME.new-*``,
    ``.NAME.old-*``) that no live publish holds: those of publishes that were killed. Returns
    the names removed."""
    prefixes = tuple(f".{target.name}.{tag}-" for tag in LEFTOVER_TAGS)
    try:
        entries = [e for e in os.scandir(target.parent)
                   if e.name.startswith(prefixes) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    removed = []
    for entry in sorted(entries, key=lambda e: e.name):
        fd = _hold(Path(entry.path), wait=False)
        if fd is None:  # a live publish holds it (or it is gone already)
            continue
        try:
            shutil.rmtree(entry.path, ignore_errors=True)
        finally:
            os.close(fd)
        removed.append(entry.name)
    return removed


# --- one publish of a site at a time ---------------------------------------------------------


def _holder(fd: int) -> str:
    """The pid the lock's holder wrote in the lock file ("unknown" if it has not yet)."""
    for _ in range(20):
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text:
            return text
        time.sleep(0.025)
    return "unknown"


@contextlib.contextmanager
def site_lock(path: Path) -> Iterator[None]:
    """Hold the lock file ``path`` (flock) while the block runs; when another publish holds
    it, say so and wait for it. The file keeps the holder's pid while held."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise Exit(f"not publishing: cannot open the lock file {path}: "
                   f"{exc.strerror or exc}", code=1) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"another publish of this site is running (pid {_holder(fd)}); waiting for "
                  f"it to finish", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:  # no flock on this filesystem (some network ones)
            print(f"publish: note: cannot lock {path} ({exc.strerror or exc}); nothing stops "
                  "another publish of this site from running at the same time",
                  file=sys.stderr, flush=True)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def _pause(stage: str) -> None:
    """The tests' hook (see the module's docstring): EXECBLOG_PUBLISH_PAUSE="STAGE:FILE"."""
    wanted, _, go = os.environ.get(PAUSE_ENV, "").partition(":")
    if wanted != stage or not go:
        return
    print(f"publish: paused before the {stage} until {go} exists", file=sys.stderr, flush=True)
    deadline = time.monotonic() + PAUSE_MAX_S
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.05)


def cache_root(settings: dict[str, Any], root: Path) -> Path:
    """The build's fence cache folder (a relative one is relative to ``root``, where Pelican
    runs)."""
    from execblog.kernel.site_errors import cache_root as fences_cache_root

    return fences_cache_root(settings, root)


def _report_file(settings: dict[str, Any], root: Path) -> Path:
    from execblog.engine.report import report_path

    return root / report_path(settings, cache_root(settings, root))


def verify_build(settings: dict[str, Any], build_id: str, root: Path) -> None:
    """Raise Exit unless the build that just ran recorded that it finished with every page
    written. Pelican can exit 0 having written nothing (stopped by a signal, say); then the
    record is missing or another build's."""

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
    from execblog.engine.cache import Cache

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


def deploy_directory(site: Path, directory: Path,
                     on_swapped: Callable[[], None] | None = None) -> None:
    """Replace ``directory`` with a copy of ``site``, atomically (see swap_in); the old copy
    is deleted afterwards. ``on_swapped`` is called as soon as the new copy is in place."""
    with staged(directory) as staging:
        shutil.copytree(site, staging, dirs_exist_ok=True)
        with signals_held():
            try:
                swap_in(staging, directory)
            except OSError as exc:
                raise Exit(f"deploy to {directory} failed: {exc}", code=1) from None
            if on_swapped is not None:
                on_swapped()
    print(f"Deployed to {directory}")


def file_settings(conf: Path, overrides: dict[str, Any]) -> dict[str, Any] | None:
    """The settings file's values with the overrides, without Pelican's checks: what a
    publish needs before the build (SITEURL, where the lock and the deploy target are).
    None when the file cannot be read: the build then reports why."""
    from pelican.settings import get_settings_from_file

    try:
        values = get_settings_from_file(str(conf))
    except Exception:  # noqa: BLE001 - Pelican reports it with the build
        return None
    return {**values, **overrides}


class _Progress:
    """How far a publish got: what the one line on Ctrl-C or SIGTERM says."""

    def __init__(self, output: Path) -> None:
        self.output, self.stage, self.deploy = output, "waiting", ""

    def interrupted(self) -> Exit:
        output = self.output
        message = {
            "waiting": "interrupted while waiting for the other publish of this site: "
                       "nothing changed",
            "building": f"interrupted: nothing published ({output} is unchanged)",
            "built": f"interrupted: {output} holds the new site; {self.deploy}",
            "deployed": f"interrupted after the deploy {self.deploy}, while removing the old "
                        "copy: the next publish removes what is left of it",
        }[self.stage]
        return Exit(message, code=130)


def publish_site(conf: Path, content: Path, output: Path, overrides: dict[str, Any],
                 root: Path, *, options: DeployOptions | None = None) -> None:
    """Strict build of ``content`` with ``conf`` into a staging folder; if it finished,
    swap it in at ``output`` and deploy (``options`` left None come from the settings).

    SITEURL and the deploy target are checked first; one publish of a site at a time (a
    second waits); leftovers of killed publishes are removed first; Ctrl-C or SIGTERM
    anywhere exits 130 with one line."""
    options = options or DeployOptions()
    build_id = uuid.uuid4().hex
    overrides = {**overrides, "FENCES_BUILD_ID": build_id}
    output = real_path(output)
    progress = _Progress(output)
    early = file_settings(conf, overrides)
    target = None
    if early is not None:  # else the build fails and says why
        require_siteurl(early, conf)
        target = deploy_target(early, conf, root, output, options)
    with terminate_as_interrupt():  # SIGTERM too
        try:
            with site_lock(cache_root(early or overrides, root) / LOCK_NAME):
                progress.stage = "building"
                removed = clean_leftovers(output)
                if target is not None and target.directory is not None:
                    removed += clean_leftovers(target.directory)
                if removed:
                    print(f"publish: removed {len(removed)} folder(s) left by interrupted "
                          f"publishes: {', '.join(removed)}", flush=True)
                _publish(conf, content, output, overrides, root, build_id, progress, target,
                         options)
        except KeyboardInterrupt:
            raise progress.interrupted() from None


def _publish(conf: Path, content: Path, output: Path, overrides: dict[str, Any], root: Path,
             build_id: str, progress: _Progress, target: Target | None,
             options: DeployOptions) -> None:
    with staged(output) as staging:
        run_pelican(conf, content, staging, overrides, root)
        # Read after the build: Pelican has already reported any bad setting in its log.
        settings = read_settings(conf, {**overrides, "PATH": str(content)})
        verify_build(settings, build_id, root)
        if target is None:
            require_siteurl(settings, conf)
            target = deploy_target(settings, conf, root, output, options)
        progress.deploy = target.unchanged()
        _pause("swap")
        with signals_held():
            try:
                swap_in(staging, output)
            except OSError as exc:
                raise Exit(f"not publishing: cannot put the new site at {output}: {exc}",
                           code=1) from None
            progress.stage = "built"
    print(f"Built {output}")
    _pause("deploy")
    if target.method == "directory":
        def swapped() -> None:
            progress.stage, progress.deploy = "deployed", f"to {target.directory}"

        deploy_directory(output, target.directory, on_swapped=swapped)
    elif target.method == "rsync":
        deploy_rsync(output, target.rsync)
    else:
        deploy_ghp_import(output, target.repository, target.branch, target.remote,
                          target.push)
