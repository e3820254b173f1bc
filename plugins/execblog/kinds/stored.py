"""The ``stored`` kinds: a notebook's code cells shown with the outputs saved in it.

The kind "runs" a ```` ```python stored outputs=... ```` fence (see
``execblog.sources.stored_outputs``) by emitting the outputs its ``outputs`` option carries,
so they take the engine's whole path (bounds, cache, figure files and dark renderings,
captions and cross-references, feeds, the notebook download) without running any code. Its
result is labelled "stored output" where other fences name their backend.
"""

from __future__ import annotations

from typing import Any

from execblog.engine import hookimpl
from execblog.engine.model import Fence, FenceKind
from execblog.engine.options import FIG_FORMAT_OPTION, OptionSpec
from execblog.sources.stored_outputs import LANGUAGES, MARKER, decode_outputs

LABEL = {"name": "stored", "label": "stored output"}


def _parse_outputs(text: str) -> str:
    decode_outputs(text)
    return text


OUTPUTS_OPTION = OptionSpec("outputs", _parse_outputs, "", True,
                            "the cell's stored outputs (written by the notebook reader)")


def run_stored(fence: Fence, session: Any) -> None:
    """Show the cell's stored outputs; nothing runs."""
    session.label(LABEL)
    for output in decode_outputs(fence.options.outputs or ""):
        session.emit(output)


# Last: a Quarto opener (```{python}) names a language, and the first kind of that language
# claims it; that must be the kind that runs it.
@hookimpl(trylast=True)
def fences_kinds() -> list[FenceKind]:
    options: tuple[Any, ...] = (OUTPUTS_OPTION,)
    return [FenceKind(name=name, language=language, marker=MARKER, run=run_stored,
                      uses_backend=False, shares_session=True, notebook_cell=language,
                      # the python cell's own options (fig-format...) are accepted, unused
                      options=options + ((FIG_FORMAT_OPTION,) if language == "python" else ()))
            for language, name in LANGUAGES.items()]
