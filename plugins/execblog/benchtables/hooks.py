"""The fence-engine plugin: ``benchmark`` in every session; a table takes the fence's caption."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from execblog.engine import hookimpl
from execblog.engine.model import FenceOptions, Output

from .api import make_benchmark
from .html import render_html
from .table import BenchTable

if TYPE_CHECKING:
    from execblog.engine.backends import ArrayBackend, BackendResolver


@hookimpl
def fences_session_setup(
    namespace: dict[str, Any], backend: ArrayBackend, backends: BackendResolver
) -> None:
    namespace["benchmark"] = make_benchmark(backend, backends)


@hookimpl
def fences_format_value(value: Any, options: FenceOptions) -> list[Output] | None:
    """A table without a ``title`` shown by a fence with ``caption=`` (``tbl-cap``) takes the
    caption as its own, so it is shown (and numbered by a ``tbl-`` label) with the table."""
    caption = getattr(options, "caption", "")  # none when no fence is running
    if isinstance(value, BenchTable) and not value.title and caption:
        titled = dataclasses.replace(value, title=str(caption))
        return [Output("text/html", render_html(titled))]
    return None
