"""The ``rust exec`` fence kind: ``rustc`` (or ``RUSTC``), edition 2021, ``-O``.

A fence is a crate with ``fn main``; with ``export=`` it is a ``cdylib`` whose
``#[no_mangle] pub extern "C" fn`` functions Python can call. See
:mod:`execblog.kinds.languages.compiled` for the rules every compiled kind follows.
"""

from __future__ import annotations

from execblog.engine import hookimpl
from execblog.engine.model import FenceKind

from .compiled import Language, make_kind
from .diagnostics import rustc_first_error
from .toolchain import Compiler

RUST = Language(
    name="rust", pretty="Rust", aliases=("rs",), compiler=Compiler("RUSTC", "rustc", "rustc"),
    suffix=".rs", flags=("--edition", "2021", "-O", "--color", "never"),
    shared=("--crate-type", "cdylib"), includes=False, first_error=rustc_first_error,
)


@hookimpl
def fences_kinds() -> list[FenceKind]:
    return [make_kind(RUST)]
