"""One compiled fence: write the padded source, compile it, then run the program or load
the library into the Python session (``export=``).

Each compiled kind (c, cpp, rust, cuda) is a :class:`Language` handed to
:func:`make_kind`. Rules an author sees:

* A fence is a whole program with its own ``main``; it is compiled with the kind's default
  flags, then ``flags="..."`` (after the source file, so ``-lfoo`` links), and run in the
  post's folder with ``args="..."`` as its arguments. Its stdout and stderr are captured
  like Python's; compiler warnings appear as stderr; a non-zero exit or a crash fails the
  fence (and the later fences of its session), nothing else.
* Compile errors are located: the log says ``content/posts/x.md:14: error: <the compiler's
  message>``; the page's error block shows the compiler's whole diagnostic, post lines and
  the offending source line included.
* ``export="name(type, ...) -> type; ..."`` compiles a shared library instead and binds
  those functions into the post's Python session (see :mod:`execblog.kinds.languages.export`); such
  a fence joins the Python session, so later Python fences can call and benchmark them.
* The compiler's identity is recorded with every result (see
  :mod:`execblog.kinds.languages.toolchain`): a warm build compiles nothing; another compiler
  re-runs; a machine without the compiler keeps cached results and fails only fences that must run.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from execblog.engine.model import STREAM, Fence, FenceError, FenceKind, Output, Toolchain
from execblog.engine.options import OptionSpec

from . import export
from .diagnostics import FirstError, rewrite
from .program import run_program
from .toolchain import Compiler, tool_name, version_of


@dataclass(frozen=True)
class Language:
    """What differs between compiled kinds."""

    name: str  # the kind and the opener's language: "cpp"
    pretty: str  # shown in labels: "C++"
    aliases: tuple[str, ...]
    compiler: Compiler
    suffix: str  # of the source file: ".cpp"
    flags: tuple[str, ...]  # default flags, before the source
    link: tuple[str, ...] = ()  # after the source and the author's flags: ("-lm",)
    shared: tuple[str, ...] = ("-shared", "-fPIC")  # for export=
    includes: bool = True  # -I the post's folder (#include "x.h" next to the post)
    first_error: FirstError | None = None
    device_pointers: bool = False  # exported functions take GPU arrays (CUDA)
    check_device: Callable[[int], dict[str, Any]] | None = None  # raises FenceError
    toolchain: Callable[[], Toolchain] | None = None  # host side; the compiler's by default
    needs_gpu: bool = False  # a cluster executor sends its sessions to GPU workers
    version: str = "1"


def _flags(text: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise ValueError(f"cannot split into words ({exc})") from None


OPTIONS = (
    OptionSpec("flags", _flags, (), True, "compiler flags after the defaults"),
    OptionSpec("args", _flags, (), True, "arguments of the program"),
    OptionSpec("export", export.parse_exports, "", True,
               'functions for Python: "name(double*, int) -> double; ..."'),
)


def make_kind(lang: Language) -> FenceKind:
    return FenceKind(
        name=lang.name, language=lang.name, aliases=lang.aliases, marker="exec",
        run=lambda fence, session: run_compiled(lang, fence, session),
        options=OPTIONS, uses_backend=False, comment="//",
        version=lang.version, toolchain=lang.toolchain or lang.compiler.toolchain,
        session_for=lambda options: "python" if options.export else None,
        needs_gpu=lang.needs_gpu,
    )


def run_compiled(lang: Language, fence: Fence, session: Any) -> None:
    command, identity = lang.compiler.require(fence.line)
    device = lang.check_device(fence.line) if lang.check_device else {}
    session.label(_label(lang, identity, device))
    workdir = session.workdir
    filename = f"fence_{fence.index}{lang.suffix}"
    with open(os.path.join(workdir, filename), "w", encoding="utf-8") as fh:
        fh.write(fence.exec_code + "\n")
    exports = fence.options.export
    # A library's name is new for each version of the fence: ctypes would hand back a
    # library already loaded under the same path.
    stem = f"fence_{fence.index}_{fence.key[:12]}" if exports else f"fence_{fence.index}"
    target = os.path.join(workdir, stem + (".so" if exports else ""))
    argv = [*command, *lang.flags, *(lang.shared if exports else ()), filename,
            *fence.options.flags, *lang.link, "-o", target]
    if lang.includes:
        argv[len(command):len(command)] = ["-I", os.path.dirname(fence.path)]
    _compile(lang, fence, session, argv, workdir, filename)
    if exports:
        export.bind(target, exports, session.namespace, line=fence.line,
                    device_pointers=lang.device_pointers)
        return
    run_program([target, *fence.options.args], what="the program", line=fence.line)


def _compile(lang: Language, fence: Fence, session: Any, argv: list[str], workdir: str,
             filename: str) -> None:
    # Messages in English (they are parsed); the compiler's temporary files in the private
    # folder, so a linker message names no build-machine path.
    env = dict(os.environ, LC_ALL="C", TMPDIR=workdir)
    try:
        proc = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, check=False)
    except OSError as exc:
        raise FenceError(f"cannot run {argv[0]}: {exc.strerror or exc}", fence.line) from None
    text = rewrite((proc.stdout + proc.stderr).strip(), workdir, filename, fence.source)
    if proc.returncode == 0:
        if text:  # warnings: shown as the compiler's stderr, the build goes on
            session.emit(Output(STREAM, text + "\n", {"name": "stderr"}))
        return
    line, message = lang.first_error(text, fence.source) if lang.first_error else (None, "")
    raise FenceError(message or f"{lang.compiler.command()[0]} failed "
                     f"(exit status {proc.returncode})", line or fence.line,
                     detail=text or message)


def _label(lang: Language, identity: str, device: dict[str, Any]) -> dict[str, Any]:
    tool = tool_name(identity, lang.compiler.command()[0])
    version = version_of(identity)
    shown = device.get("device")
    return {
        "name": lang.name,
        "label": f"{lang.pretty} · {shown}" if shown else f"{lang.pretty} · {tool} {version}",
        "device": shown or "",
        "gpu": bool(device.get("gpu")),
        "versions": {tool: version, **device.get("versions", {})},
        "toolchain": identity,
    }

