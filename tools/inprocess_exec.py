"""The bench's markdown-exec-like reference: ``python exec`` fences run inside Pelican.

A Python-Markdown extension (``MARKDOWN`` extension ``tools.inprocess_exec``) for ``invoke
bench`` only. It does what markdown-exec does in MkDocs: every fence of a post is
exec'd in the build's own process, in one namespace per post, with no isolation, no cache
and no timeout; printed text becomes a ``<pre>`` and each matplotlib figure a file (in
``$BENCH_FIGURES``) shown by an ``<img>``, under the highlighted source. Figures are saved
in the format the engine's ``fig-format=auto`` picks (an SVG of every ``pcolormesh`` would
make the reference minutes slower, and the comparison one of formats). The fence
engine is not loaded in that build, so the comparison is the engine against running the
same code the simplest way.
"""

from __future__ import annotations

import contextlib
import html
import io
import itertools
import os
import re
import sys
import traceback
from typing import Any

from execblog.display.mpl import PNG_DPI, choose_format
from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

_FIGURE_NUMBERS = itertools.count(1)  # unique file names over the whole build
FENCE = re.compile(r"^```python exec\n(.*?)^```$", re.S | re.M)


class _RunFences(Preprocessor):
    def __init__(self, md: Markdown):
        super().__init__(md)
        import numpy

        # a fence's module is __main__, as in the engine (and Jupyter, sphinx-gallery)
        self.namespace: dict[str, Any] = {"xp": numpy, "to_numpy": numpy.asarray,
                                          "__name__": "__main__"}

    def run(self, lines: list[str]) -> list[str]:
        text = FENCE.sub(self._replace, "\n".join(lines))
        return text.split("\n")

    def _replace(self, match: re.Match[str]) -> str:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            argv, sys.argv = sys.argv, ["post"]  # not Pelican's (gallery examples parse it)
            try:
                exec(match.group(1), self.namespace)  # noqa: S102 - the bench's reference
            except (Exception, SystemExit):  # shown in the page, as markdown-exec shows it
                print(traceback.format_exc())
            finally:
                sys.argv = argv
        parts = [f"<pre>{html.escape(out.getvalue())}</pre>"] if out.getvalue() else []
        for num in plt.get_fignums():
            fig = plt.figure(num)
            fmt = choose_format(fig)  # as the engine's fig-format=auto: the same files
            name = f"fig-{os.getpid()}-{next(_FIGURE_NUMBERS)}.{fmt}"
            try:
                fig.savefig(os.path.join(os.environ["BENCH_FIGURES"], name), format=fmt,
                            bbox_inches="tight", dpi=PNG_DPI if fmt == "png" else "figure")
            except Exception:  # (text.usetex without LaTeX...): shown as it failed
                parts.append(f"<pre>{html.escape(traceback.format_exc())}</pre>")
                continue
            finally:
                plt.close(num)
            parts.append(f'<img src="/figures/{name}" alt="">')
        # the source shown highlighted above its output, as the engine shows it
        return f"```python\n{match.group(1)}```\n\n{self.md.htmlStash.store(''.join(parts))}"


class InProcessExec(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        # after normalize_whitespace (30, which strips stash placeholders), before fenced_code (25)
        md.preprocessors.register(_RunFences(md), "inprocess_exec", 27)


def makeExtension(**kwargs: Any) -> InProcessExec:  # noqa: N802 - Python-Markdown's name
    return InProcessExec(**kwargs)
