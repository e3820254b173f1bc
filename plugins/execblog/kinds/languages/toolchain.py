"""Find a compiler and name it exactly: the command, its resolved path and version line.

``CC``/``CXX``/``RUSTC``/``NVCC`` (the usual variables) choose the command, which may have
words (``CC="ccache gcc"``). The identity (resolved path + first line of ``--version``) is
what results record and what the engine compares on a cache hit: a warm build with the
same compiler compiles nothing, an upgraded compiler re-runs its fences.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass

from execblog.engine.model import FenceError, Toolchain


@dataclass(frozen=True)
class Compiler:
    """A compiler as a fence kind uses it."""

    variable: str  # the environment variable that overrides the command: "CXX"
    default: str  # the command otherwise: "c++"
    package: str  # what to install when it is missing: "g++"

    def command(self) -> list[str]:
        return shlex.split(os.environ.get(self.variable) or self.default)

    def resolve(self) -> list[str] | None:
        """The command with its program resolved on PATH, or None when it is not found."""
        words = self.command()
        found = shutil.which(words[0]) if words else None
        return [found, *words[1:]] if found else None

    def missing(self) -> str:
        words = self.command()
        name = words[0] if words else f"${self.variable}"
        return (f"{name} not found on PATH (install {self.package}, "
                f"or set {self.variable} to the compiler)")

    def identity(self) -> str | None:
        """``/usr/bin/x86_64-linux-gnu-g++-12 c++ (Debian 12.2.0-14) 12.2.0``, or None."""
        command = self.resolve()
        if command is None:
            return None
        real = os.path.realpath(command[0])
        try:
            stamp = os.stat(real).st_mtime_ns
        except OSError:
            return None
        return _identity(tuple(command), real, stamp)

    def toolchain(self) -> Toolchain:
        """For ``FenceKind.toolchain`` (host): the identity, or why there is none."""
        identity = self.identity()
        return Toolchain(identity) if identity else Toolchain(None, self.missing())

    def require(self, line: int) -> tuple[list[str], str]:
        """In the worker: the resolved command and its identity, or a located error."""
        command, identity = self.resolve(), self.identity()
        if command is None or identity is None:
            raise FenceError(self.missing(), line)
        return command, identity


@functools.cache
def _identity(command: tuple[str, ...], real: str, stamp: int) -> str | None:
    try:
        proc = subprocess.run([*command, "--version"], capture_output=True, text=True,
                              timeout=30, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [line.strip() for line in (proc.stdout or proc.stderr).splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        return None
    # nvcc prints its release on a later line; every other compiler on the first.
    release = next((line for line in lines if "release" in line), lines[0])
    return f"{real} {' '.join(command[1:])} {release}".replace("  ", " ")


def version_of(identity: str) -> str:
    """The version number in an identity line: after ``version``/``release`` where it
    says so (clang, nvcc), else the last dotted number (gcc, rustc)."""
    match = (re.search(r"(?:release|version) (\d+(?:\.\d+)+)", identity)
             or re.search(r"(\d+\.\d+(?:\.\d+)?)(?!.*\d+\.\d+)", identity))
    return match.group(1) if match else ""


_KNOWN = ("clang++", "clang", "g++", "gcc", "nvcc", "rustc")


def tool_name(identity: str, command: str) -> str:
    """What to call the compiler in a label: ``gcc`` for ``cc`` on Debian, ``clang``..."""
    real = os.path.basename(identity.split(" ", 1)[0])
    rest = identity.split(" ", 1)[-1]
    for name in _KNOWN:
        if name in real:
            return name
    for name in _KNOWN:
        if re.search(rf"(?<![\w+]){re.escape(name)}(?![\w+])", rest):
            return name
    return os.path.basename(command)
