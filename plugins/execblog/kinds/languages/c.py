"""The ``c exec`` fence kind: C17 with the system compiler (``cc``, or ``CC``).

Default flags ``-O2 -std=c17``, linked with ``-lm``; ``flags="..."`` adds to them. See
:mod:`execblog.kinds.languages.compiled` for the rules every compiled kind follows.
"""

from __future__ import annotations

from execblog.engine import hookimpl
from execblog.engine.model import FenceKind

from .compiled import Language, make_kind
from .diagnostics import gcc_first_error
from .toolchain import Compiler

C = Language(
    name="c", pretty="C", aliases=(), compiler=Compiler("CC", "cc", "gcc"), suffix=".c",
    flags=("-O2", "-std=c17", "-fdiagnostics-color=never"), link=("-lm",),
    first_error=gcc_first_error,
)


@hookimpl
def fences_kinds() -> list[FenceKind]:
    return [make_kind(C)]
