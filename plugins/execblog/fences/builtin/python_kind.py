"""The ``python exec`` fence kind: run the code in the session namespace.

The code is compiled with the post's content path (``posts/x.md``) as file name and padded
so that its line numbers are the post's, so tracebacks and warnings point at the Markdown
file without naming the build machine's folders. A trailing expression is displayed unless
the line ends with ``;``.
"""

from __future__ import annotations

import ast
import io
import tokenize
from typing import Any

from ..hookspecs import hookimpl
from ..model import Fence, FenceKind
from ..options import FIG_FORMAT_OPTION


def run_python(fence: Fence, session: Any) -> None:
    tree = ast.parse(fence.exec_code, filename=fence.source, mode="exec")
    trailing = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not _ends_with_semicolon(fence.code):
        trailing = tree.body.pop()
    namespace = session.namespace
    exec(compile(tree, fence.source, "exec"), namespace)  # noqa: S102 - that is the product
    if trailing is not None:
        value = eval(  # noqa: S307
            compile(ast.Expression(trailing.value), fence.source, "eval"), namespace
        )
        if value is not None:
            session.display(value)


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
                      version="3",  # 3: fig-format auto, PNG at 96 px/in; 2: mime bundles, LaTeX
                      options=(FIG_FORMAT_OPTION,))]
