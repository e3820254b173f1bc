"""The ``python exec`` fence kind: run the code in the session namespace.

The code is compiled with the post's content path (``posts/x.md``) as file name and padded
so that its line numbers are the post's, so tracebacks and warnings point at the Markdown
file without naming the build machine's folders. A trailing expression is displayed unless
the line ends with ``;``.

Jupyter's semantics: ``plt.show()`` shows the open figures where it is called
(:func:`execblog.display.mpl.inline_show`), and IPython's magics that make sense at
build time run (:mod:`execblog.kinds.magics`); the page shows the source as written.
"""

from __future__ import annotations

import ast
import io
import tokenize
from typing import Any

from execblog.display.mpl import RENDERINGS_OPTION, inline_show
from execblog.engine.hookspecs import hookimpl
from execblog.engine.model import Fence, FenceKind
from execblog.engine.options import FIG_FORMAT_OPTION, PARAMS_OPTIONS

from .ipython_shim import BuildShell, hide_shell_frames
from .magics import check_calls, has_magics, transform


def run_python(fence: Fence, session: Any) -> None:
    namespace = session.namespace
    code = transform(fence) if has_magics(fence.code) else fence.exec_code
    tree = ast.parse(code, filename=fence.source, mode="exec")
    if "get_ipython" in code:  # magics, or calls as nbconvert writes them
        check_calls(tree)
        shell = getattr(namespace.get("get_ipython"), "__self__", None)
        if not isinstance(shell, BuildShell):
            namespace["get_ipython"] = BuildShell(session).get_ipython
    trailing = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not _ends_with_semicolon(fence.code):
        trailing = tree.body.pop()
    with inline_show(session):
        try:
            exec(compile(tree, fence.source, "exec"), namespace)  # noqa: S102 - the product
            if trailing is not None:
                value = eval(  # noqa: S307
                    compile(ast.Expression(trailing.value), fence.source, "eval"), namespace
                )
                if value is not None:
                    session.display(value)
        except BaseException as exc:
            hide_shell_frames(exc)
            raise


def _ends_with_semicolon(code: str) -> bool:
    skip = {tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER,
            tokenize.INDENT, tokenize.DEDENT}
    last = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type not in skip:
                last = tok
    except (tokenize.TokenError, SyntaxError):
        return False
    return last is not None and last.type == tokenize.OP and last.string == ";"


@hookimpl
def fences_kinds() -> list[FenceKind]:
    return [FenceKind(name="python", language="python", marker="exec", run=run_python,
                      # 4: plt.show() ends figures, IPython magics; 3: fig-format auto, PNG
                      version="4",  # at 96 px/in; 2: mime bundles, LaTeX
                      options=(FIG_FORMAT_OPTION, RENDERINGS_OPTION, *PARAMS_OPTIONS),
                      notebook_cell="python")]
