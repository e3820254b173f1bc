"""npm tools the checks use (axe-core for the browser tests, Lighthouse for `invoke audit`),
installed once at an exact version into a cache folder that git ignores.

Each ``name@version`` gets a folder of its own, ``<NODE_TOOLS>/<name>-<version>/``, filled by
``npm install --prefix`` (no package.json or lock file is written in the project); a lock file
keeps parallel test workers from installing the same tool at once.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout (this file: tools/nodetools.py)
# $EXECBLOG_NODE_TOOLS moves the cache (the default is ignored by git: .gitignore's /.cache/).
NODE_TOOLS = Path(os.environ.get("EXECBLOG_NODE_TOOLS") or ROOT / ".cache" / "node")
INSTALL_TIMEOUT_S = 600


class ToolMissing(RuntimeError):
    """An npm tool is not installed and could not be installed; the message says why."""


def tool_folder(name: str, version: str) -> Path:
    return NODE_TOOLS / f"{name}-{version}"


def package_file(name: str, version: str, relative: str) -> Path:
    """A file of the installed package, e.g. ("axe-core", "4.14.1", "axe.min.js")."""
    return tool_folder(name, version) / "node_modules" / name / relative


def ensure_npm_package(name: str, version: str, relative: str = "package.json") -> Path:
    """Install name@version (exactly) unless it is there; return package_file(...).

    Raises ToolMissing with the reason (no npm, npm failed) when it cannot be had."""
    target = package_file(name, version, relative)
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise ToolMissing(f"{name}@{version} needs npm to install (apt-get install nodejs npm)")
    folder = tool_folder(name, version)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be installing it right now
        if not target.is_file():
            try:
                proc = subprocess.run(
                    [npm, "install", "--prefix", str(folder), "--no-save", "--no-audit",
                     "--no-fund", "--loglevel=error", "--save-exact", f"{name}@{version}"],
                    capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise ToolMissing(f"npm install {name}@{version} could not run: {exc}") from exc
            if proc.returncode != 0 or not target.is_file():
                tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
                raise ToolMissing(f"npm install {name}@{version} into {folder} failed "
                                  f"(exit {proc.returncode}): {tail}")
    return target
