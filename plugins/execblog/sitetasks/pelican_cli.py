"""The one Pelican command builder, and running it as a subprocess that Ctrl-C can stop."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from invoke.exceptions import Exit

INTERRUPT_GRACE = 10.0  # seconds Pelican gets to stop its fences after Ctrl-C or SIGTERM


class Interrupted(Exit):
    """Ctrl-C or SIGTERM during a build, raised once the build process has ended."""

    def __init__(self) -> None:
        super().__init__("interrupted: the build was stopped", code=130)


def pelican_command(content: str | Path, output: str | Path, conf: str | Path,
                    overrides: Mapping[str, Any] | None = None) -> list[str]:
    """``python -m pelican CONTENT -s CONF -o OUT [-e KEY=JSON ...]`` with this interpreter.

    All overrides go in one ``-e`` (Pelican keeps only the last one); values are JSON."""
    cmd = [sys.executable, "-m", "pelican", str(content), "-s", str(conf), "-o", str(output)]
    if overrides:
        cmd += ["-e", *(f"{key}={json.dumps(value)}" for key, value in overrides.items())]
    return cmd


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


def fence_mode(frozen: bool, rerun: bool) -> dict[str, str]:
    """The FENCES_MODE override for --frozen / --rerun (none for a normal build)."""
    if frozen and rerun:
        raise Exit("--frozen and --rerun exclude each other", code=2)
    if frozen:
        return {"FENCES_MODE": "frozen"}
    if rerun:
        return {"FENCES_MODE": "rerun"}
    return {}


def run_pelican(conf: Path, content: Path, output: Path, overrides: Mapping[str, Any],
                cwd: Path) -> None:
    """Build the site in ``cwd``; raise Exit (non-zero) when Pelican fails, Interrupted on
    Ctrl-C or SIGTERM."""
    if not content.is_dir():
        raise Exit(f"content folder not found: {content}", code=1)
    with terminate_as_interrupt():
        code = wait(subprocess.Popen(pelican_command(content, output, conf, overrides),
                                     cwd=cwd))
    if code != 0:
        raise Exit(f"pelican failed (exit status {code}): see the log above",
                   code=128 - code if code < 0 else code)  # killed by signal N: 128 + N


def wait(proc: subprocess.Popen[bytes]) -> int:
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
def terminate_as_interrupt() -> Iterator[None]:
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


def read_settings(conf: Path, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A settings file as Pelican sees it, with the --set overrides applied. Quiet: the
    warnings Pelican logs about settings belong to (and already appear in) the build log."""
    from pelican.settings import read_settings as pelican_read_settings

    logger = logging.getLogger("pelican")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return pelican_read_settings(str(conf), override=dict(overrides))
    finally:
        logger.setLevel(level)
