"""The bench's markdown-exec-like reference: ``python exec`` fences run inside Pelican.

A Python-Markdown extension (``MARKDOWN`` extension ``sitetasks.inprocess_exec``) for
``invoke bench`` only. It does what markdown-exec does in MkDocs: every fence of a post is
exec'd in the build's own process, in one namespace per post, with no isolation, no cache
and no timeout; printed text becomes a ``<pre>`` and each matplotlib figure an SVG file
(in ``$BENCH_FIGURES``) shown by an ``<img>``, under the highlighted source. The fence
engine is not loaded in that build, so the comparison is the engine against running the
same code the simplest way.
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import re
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

FENCE = re.compile(r"^```python exec\n(.*?)^```$", re.S | re.M)


class _RunFences(Preprocessor):
    def __init__(self, md: Markdown):
        super().__init__(md)
        import numpy

        self.namespace: dict[str, Any] = {"xp": numpy, "to_numpy": numpy.asarray}
        self.figures = 0

    def run(self, lines: list[str]) -> list[str]:
        text = FENCE.sub(self._replace, "\n".join(lines))
        return text.split("\n")

    def _replace(self, match: re.Match[str]) -> str:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(match.group(1), self.namespace)  # noqa: S102 - the bench's reference
        parts = [f"<pre>{html.escape(out.getvalue())}</pre>"] if out.getvalue() else []
        for num in plt.get_fignums():
            self.figures += 1
            name = f"fig-{os.getpid()}-{id(self)}-{self.figures}.svg"
            plt.figure(num).savefig(os.path.join(os.environ["BENCH_FIGURES"], name),
                                    format="svg", bbox_inches="tight")
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
