"""IPython's magic syntax in ``python exec`` fences: rewritten to ``get_ipython()`` calls.

IPython's own input transformer (``IPython.core.inputtransformer2.TransformerManager``)
turns ``%time x = f()`` into ``get_ipython().run_line_magic('time', 'x = f()')``,
``!ls`` into ``get_ipython().system('ls')`` and ``x = !ls`` into
``x = get_ipython().getoutput('ls')``; the fence namespace's ``get_ipython()`` is then a
:class:`execblog.kinds.ipython_shim.BuildShell`, which runs the magics that make
sense at build time.

Line numbers are kept: the transform runs without IPython's clean-ups (which drop the
leading blank lines that pad a fence to its post lines), a line it merges (a ``\\``
continuation of ``!cmd``) is padded back, and a cell magic (``%%time`` as the fence's first
line) becomes one call on its own line whose body the shell runs at the body's post lines.
Magics are checked before anything runs: one that a build cannot run is a
:class:`~execblog.engine.model.FenceError` at its post line.
"""

from __future__ import annotations

import ast
import difflib
import re

from execblog.engine.model import Fence, FenceError

# Line magics with nothing to do at build time: figures are captured anyway, a build
# starts from fresh modules, the inline backend's settings are fence options here, and
# tracebacks have the page's own form (%xmode).
NOTHING_TO_DO = frozenset({"matplotlib", "config", "autoreload", "aimport", "xmode"})
LINE_MAGICS = NOTHING_TO_DO | {"time", "timeit", "prun", "load_ext"}
CELL_MAGICS = frozenset({"time", "timeit", "prun", "bash"})
INSTALLERS = frozenset({"pip", "conda", "mamba", "micromamba", "uv"})
HELP = frozenset({"pinfo", "pinfo2", "psearch"})  # what ``name?`` and ``name??`` become
SHELL_METHODS = frozenset({"run_line_magic", "run_cell_magic"})

# A line that may hold IPython syntax: %magic, !cmd, x = %magic, x = !cmd, name? (cheap
# pre-check; the token-aware transform decides, so a string holding "%" changes nothing)
_CANDIDATE = re.compile(r"^\s*[%!]|^[^#\n]*=\s*[%!]|\?\s*$", re.M)


def has_magics(code: str) -> bool:
    """Whether ``code`` may use IPython syntax (then :func:`transform` it)."""
    return bool(_CANDIDATE.search(code))


def transform(fence: Fence) -> str:
    """The fence's ``exec_code`` with IPython syntax rewritten, every line at its post line."""
    first, _, rest = fence.code.partition("\n")
    if first.startswith("%%"):
        name, _, line = first[2:].rstrip().partition(" ")
        body = rest + "\n" if rest and not rest.endswith("\n") else rest
        padding = "\n" * (fence.code_line - 1)
        return f"{padding}get_ipython().run_cell_magic({name!r}, {line!r}, {body!r})\n"
    return transform_lines(fence.exec_code)


def transform_lines(code: str) -> str:
    """Line magics, ``!cmd`` and ``name?`` of ``code`` rewritten; as many lines as before."""
    if not has_magics(code):
        return code
    from IPython.core.inputtransformer2 import TransformerManager

    manager = TransformerManager()
    manager.cleanup_transforms = []  # they strip leading blank lines, indents and prompts
    manager.line_transforms = []  # cell magics: see transform()
    try:
        done = manager.transform_cell(code)
    except Exception:  # noqa: BLE001 - code Python cannot read: its SyntaxError says more
        return code
    before, after = code.splitlines(), done.splitlines()
    return code if after == before else _same_lines(before, after)


def _same_lines(before: list[str], after: list[str]) -> str:
    """``after`` with blank lines added where the transform merged lines of ``before``."""
    lines: list[str] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for _, a0, a1, b0, b1 in matcher.get_opcodes():
        lines += after[b0:b1] + [""] * max(0, (a1 - a0) - (b1 - b0))
    return "\n".join(lines) + "\n"


def check_calls(tree: ast.AST) -> None:
    """Raise a located :class:`FenceError` for the first magic in ``tree`` (transformed
    code) that a build cannot run, before any of it runs."""
    for node in ast.walk(tree):
        name = _magic_call(node)
        if name is not None:
            check_magic(name, cell=node.func.attr == "run_cell_magic",  # type: ignore[attr-defined]
                        line=node.lineno)  # type: ignore[attr-defined]


def _magic_call(node: ast.AST) -> str | None:
    """The magic's name when ``node`` is ``get_ipython().run_*_magic('name', ...)``."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in SHELL_METHODS and node.args):
        return None
    owner, name = node.func.value, node.args[0]
    if (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
            and owner.func.id == "get_ipython" and isinstance(name, ast.Constant)
            and isinstance(name.value, str)):
        return name.value
    return None


def check_magic(name: str, *, cell: bool, line: int | None) -> None:
    """Raise a located :class:`FenceError` unless magic ``name`` runs at build time."""
    problem = refusal(name, cell=cell)
    if problem:
        raise FenceError(problem, line)


def refusal(name: str, *, cell: bool) -> str:
    """Why magic ``name`` cannot run in a build ("" when it can)."""
    prefix = "%%" if cell else "%"
    if name in (CELL_MAGICS if cell else LINE_MAGICS):
        return ""
    if name in INSTALLERS:
        return (f"{prefix}{name} cannot install packages while the site builds: install them "
                "in the environment that builds the site (outside the post), then remove "
                "this line")
    what = " (IPython's help, `name?`)" if name in HELP else ""
    supported = ", ".join([*(f"%{m}" for m in sorted(LINE_MAGICS)),
                           *(f"%%{m}" for m in sorted(CELL_MAGICS)), "!cmd"])
    return (f"magic {prefix}{name}{what} cannot run at build time; the magics a post may "
            f"use are {supported}")

