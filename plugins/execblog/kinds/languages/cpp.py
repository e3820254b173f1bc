"""The ``cpp exec`` fence kind (also ``c++``): C++20 with the system compiler (``c++``, or
``CXX``).

Default flags ``-O2 -std=c++20``; ``flags="..."`` adds to them. See
:mod:`execblog.kinds.languages.compiled` for the rules every compiled kind follows; exported
functions need ``extern "C"`` so Python finds them by name.
"""

from __future__ import annotations

from execblog.engine import hookimpl
from execblog.engine.model import FenceKind

from .compiled import Language, make_kind
from .diagnostics import gcc_first_error
from .toolchain import Compiler

CPP = Language(
    name="cpp", pretty="C++", aliases=("c++",), compiler=Compiler("CXX", "c++", "g++"),
    suffix=".cpp", flags=("-O2", "-std=c++20", "-fdiagnostics-color=never"),
    first_error=gcc_first_error,
)


@hookimpl
def fences_kinds() -> list[FenceKind]:
    return [make_kind(CPP)]
