"""The plugin the plugin-contract page (content/plugins.md) shows and runs.

Named in docs/pelicanconf.py's FENCES_PLUGINS, as a blog's own unpackaged plugin would be;
the page prints each function's source from this file, so what it shows is what runs.
"""

from __future__ import annotations

import html
import json
import os

import numpy
from execblog.engine import hookimpl
from execblog.engine.backends import ArrayBackend, BackendCandidate, WallClock, cpu_name
from execblog.engine.model import FenceKind, Output

SHOUT = "text/x-shout"


class Loud:
    """A value that the plugin knows how to show."""

    def __init__(self, text: str):
        self.text = text


def run_shout(fence, session):
    """Run one ```shout fence: its text, upper-case, as a shout."""
    session.emit(Output(SHOUT, fence.code.upper()))


@hookimpl
def fences_kinds():
    return [FenceKind(name="shout", language="shout", run=run_shout,
                      uses_backend=False)]


@hookimpl
def fences_backend_candidates():
    def probe():
        return ArrayBackend(name="abacus", pretty="Abacus", xp=numpy,
                            device=cpu_name(), where="CPU", timer=WallClock(),
                            versions={"NumPy": numpy.__version__})

    # preference below NumPy's 0: only by name (backend=abacus), never by auto
    return [BackendCandidate(name="abacus", pretty="Abacus", preference=-5,
                             installed=lambda: True, probe=probe)]


@hookimpl
def fences_session_setup(namespace, settings):
    namespace["Loud"] = Loud
    namespace["SITE"] = settings.get("SITENAME")


@hookimpl
def fences_format_value(value):
    if isinstance(value, Loud):
        return [Output(SHOUT, value.text.upper())]
    return None


@hookimpl
def fences_capture_outputs(namespace):
    notes = namespace.pop("shout_notes", None)
    return [Output("text/plain", "\n".join(notes))] if notes else []


@hookimpl
def fences_render_output(output):
    if output.mime == SHOUT:
        text = html.escape(output.data)
        return f'<p class="shout"><strong>{text}!</strong></p>'
    return None


@hookimpl
def fences_post_rendered(post, results, settings):
    # A JSON summary next to each page with fences: <its folder>/fences.json
    page = os.path.join(settings["OUTPUT_PATH"], post.save_as)
    folder = os.path.dirname(page)
    os.makedirs(folder, exist_ok=True)
    summary = [{"status": r.status, "seconds": round(r.seconds, 3)}
               for r in results]
    with open(os.path.join(folder, "fences.json"), "w") as fh:
        json.dump(summary, fh)


@hookimpl
def fences_build_finished(report):
    summary = report["summary"]
    print(f"shout_plugin: {summary['total']} fences, "
          f"{summary['failed']} failed")
