"""Kinds are independent: each has its own default session; session=NAME joins them."""

from __future__ import annotations

import json

from conftest import run_pelican, write_files

PLUGIN = '''
from execblog.engine import hookimpl
from execblog.engine.model import FenceError, FenceKind, Output


def run_grumpy(fence, session):
    if "fail" in fence.code:
        raise FenceError("grumpy: refused", fence.line)
    session.emit(Output("text/plain", "grumpy ok"))


@hookimpl
def fences_kinds():
    return [FenceKind(name="grumpy", language="grumpy", marker="exec", run=run_grumpy,
                      uses_backend=False)]
'''

POST = """Title: Kinds
Date: 2026-05-03

```grumpy exec
fail
```

```python exec
print("python still runs")
```

```grumpy exec session=shared
fail
```

```python exec session=shared
print("never")
```
"""


def test_a_failing_kind_does_not_skip_another_kinds_session(tmp_path):
    write_files(tmp_path / "lib", {"grumpy.py": PLUGIN})
    write_files(tmp_path / "content", {"posts/kinds.md": POST})
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_PLUGINS": ["grumpy"]},
                       env={"PYTHONPATH": str(tmp_path / "lib")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "cache/report.json").read_text())
    got = [(f["kind"], f["session"], f["status"]) for f in report["fences"]]
    assert got == [("grumpy", "grumpy:default", "failed"),
                   ("python", "python:default", "ran"),
                   ("grumpy", "shared", "failed"),
                   ("python", "shared", "skipped")]
    assert "python still runs" in (tmp_path / "out/posts/kinds/index.html").read_text()


def test_display_of_a_figure_follows_the_fence_fig_format(site):
    body = ("```python exec fig-format=png alt='A line'\nimport matplotlib.pyplot as plt\n"
            "fig = plt.figure()\nplt.plot([0, 1])\ndisplay(fig)\nprint('after')\n```\n")
    build = site({"posts/shown.md": "Title: Shown\nDate: 2026-05-04\n\n" + body})
    assert build.returncode == 0, build.log
    images = build.post("shown").select(".fence-outputs a.fig-light img")
    assert len(images) == 1 and images[0]["src"].endswith(".png")  # shown once, as PNG
    assert len(build.post("shown").select(".fence-outputs a.fig-dark img")) == 1


def test_the_session_a_kind_gets_is_the_documented_protocol(tmp_path):
    """A kind checks, inside the worker, that its session is a ``fences.Session``."""
    plugin = (
        "from execblog.engine import Session, hookimpl\n"
        "from execblog.engine.model import FenceKind, Output\n\n"
        "def run(fence, session):\n"
        "    ok = isinstance(session, Session) and session.fence is fence\n"
        "    session.emit(Output('text/plain', f'protocol {ok}'))\n\n"
        "@hookimpl\n"
        "def fences_kinds():\n"
        "    return [FenceKind(name='probe', language='probe', marker='exec', run=run,\n"
        "                      uses_backend=False)]\n"
    )
    write_files(tmp_path / "lib", {"probekind.py": plugin})
    write_files(tmp_path / "content", {"posts/p.md": "Title: P\nDate: 2026-05-05\n\n"
                                                     "```probe exec\nanything\n```\n"})
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_PLUGINS": ["probekind"]},
                       env={"PYTHONPATH": str(tmp_path / "lib")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "protocol True" in (tmp_path / "out/posts/p/index.html").read_text()


def test_options_a_kind_does_not_use_are_rejected_and_not_keyed(site):
    diagram = '{"items": [{"type": "box", "text": "A"}]}'
    files = {"posts/d.md": "Title: D\nDate: 2026-05-06\n\n"
                           f"```diagram\n{diagram}\n```\n\n"
                           f"```diagram backend=numpy\n{diagram}\n```\n\n"
                           f"```diagram fig-format=png\n{diagram}\n```\n"}
    first = site(files)
    statuses = first.statuses()
    assert statuses == ["ran", "failed", "failed"], first.log
    assert "posts/d.md:8: error: unknown option 'backend'" in first.log
    assert "posts/d.md:12: error: unknown option 'fig-format'" in first.log
    # FENCES_BACKEND is no part of a diagram's key: changing it re-runs no diagram
    again = site(settings={"FENCES_BACKEND": "numpy"})
    assert again.statuses()[0] == "cached", again.log


SETTINGS_PLUGIN = """
import json, os
from execblog.engine import hookimpl


@hookimpl
def fences_session_setup(namespace, settings):
    namespace["greeting"] = settings["GREETING"]


@hookimpl
def fences_render_output(output, settings):
    if output.mime == "text/plain" and output.data == "'shout'":
        return f"<p class='loud'>{settings['GREETING'].upper()}</p>"
    return None


@hookimpl
def fences_build_finished(report, settings):
    with open(os.environ["SETTINGS_COPY"], "w") as fh:
        json.dump({"greeting": settings["GREETING"], "has_markdown": "MARKDOWN" in settings}, fh)
"""


def test_hooks_that_ask_for_the_settings_get_them(tmp_path):
    write_files(tmp_path / "lib", {"settingsplugin.py": SETTINGS_PLUGIN})
    write_files(tmp_path / "content", {"posts/s.md": "Title: S\nDate: 2026-05-07\n\n"
                                                     "```python exec\nprint(greeting)\n```\n\n"
                                                     "```python exec\n'shout'\n```\n"})
    copy = tmp_path / "copy.json"
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_PLUGINS": ["settingsplugin"], "GREETING": "hello"},
                       env={"PYTHONPATH": str(tmp_path / "lib"), "SETTINGS_COPY": str(copy)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (tmp_path / "out/posts/s/index.html").read_text()
    assert "hello" in page  # fences_session_setup(settings) in the worker
    assert "<p class='loud'>HELLO</p>" in page or '<p class="loud">HELLO</p>' in page
    # plain data only: the MARKDOWN setting holds the engine's extension object, so it
    # stays on the host
    assert json.loads(copy.read_text()) == {"greeting": "hello", "has_markdown": False}
