"""Notebooks: a post with exec fences gets ``<slug>.ipynb`` next to its page, and a link.

The plugin implements ``fences_post_rendered``; these builds exercise it end to end.
"""

from __future__ import annotations

import base64
import posixpath

import nbformat
from conftest import run_pelican, write_files
from execblog.engine.model import Fence
from execblog.formats.notebooks.convert import body_start, fence_end, source_lines, split_post
from execblog.kernel.store import seal, unseal

POST = r'''
Title: Notebook Demo
Date: 2026-01-05
Tags: demo

Euler's identity $e^{i\pi} + 1 = 0$ opens the post, and a display:

$$
\int_0^1 x\,dx = \tfrac{1}{2}
$$

```python exec
import matplotlib.pyplot as plt
print("hello from python")
fig, ax = plt.subplots()
ax.plot([1, 2, 3])
int(xp.arange(3).sum())
```

Between the fences, a [link]({filename}plain.md).

```python exec fig-format=png echo=false
import matplotlib.pyplot as plt
plt.plot([3, 1, 2])
```

```python exec error=true
1 / 0
```

```bash exec
echo "from bash"
```

```diagram caption="A box"
{"items": [{"id": "a", "type": "box", "text": "A"}]}
```

The end, with a plain block:

```python
not_run = True
```
'''

PLAIN = """
Title: Plain Post
Date: 2026-01-04

No fences here.
"""


def _sources(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def test_fences_post_rendered_writes_a_notebook_next_to_the_page(site):
    build = site({"posts/demo.md": POST, "posts/plain.md": PLAIN})
    assert build.returncode == 0, build.log
    page = build.post("notebook-demo")
    links = page.select("a.notebook-link")
    assert len(links) == 1 and links[0].has_attr("download")
    assert links[0].get_text(strip=True) == "Download notebook"
    href = links[0]["href"]
    target = build.output / posixpath.normpath(posixpath.join("posts/notebook-demo", href))
    assert target == build.output / "posts/notebook-demo/notebook-demo.ipynb"
    assert target.is_file()

    nb = nbformat.read(target, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata["kernelspec"]["name"] == "python3"
    cells = nb.cells
    kinds = [c.cell_type for c in cells]
    assert kinds == ["markdown", "code", "markdown", "code", "markdown", "code", "code",
                     "code", "markdown", "markdown"], kinds
    assert [c["id"] for c in cells] == [f"cell-{i}" for i in range(len(cells))]
    title, setup, intro, first, middle, png, failing, bash, diagram, end = cells

    assert _sources(title) == "# Notebook Demo"
    assert "import numpy as xp" in _sources(setup)  # the build's `xp`, for plain Jupyter
    text = _sources(intro)
    assert text.startswith("Euler's identity $e^{i\\pi} + 1 = 0$")
    assert "$$\n\\int_0^1 x\\,dx = \\tfrac{1}{2}\n$$" in text
    assert "Title:" not in text and "Tags:" not in text

    assert _sources(first).startswith("import matplotlib.pyplot as plt\nprint(")
    assert "```" not in _sources(first)
    streams = [o for o in first.outputs if o.output_type == "stream"]
    assert [(o.name, o.text) for o in streams] == [("stdout", "hello from python\n")]
    value = [o for o in first.outputs if o.output_type == "execute_result"]
    assert len(value) == 1 and value[0].data["text/plain"] == "3"
    svgs = [o for o in first.outputs if "image/svg+xml" in o.get("data", {})]
    assert len(svgs) == 1 and "<svg" in svgs[0].data["image/svg+xml"]
    assert first.execution_count == 1

    assert _sources(middle) == "Between the fences, a [link](../../posts/plain-post/)."
    assert png.metadata["jupyter"] == {"source_hidden": True}  # echo=false: code kept, hidden
    [image] = [o for o in png.outputs if o.output_type == "display_data"]
    assert base64.b64decode(image.data["image/png"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert image.metadata["image/png"]["width"] > 0

    [error] = failing.outputs
    assert error.output_type == "error"
    assert (error.ename, error.evalue) == ("ZeroDivisionError", "division by zero")
    assert error.traceback[-1] == "ZeroDivisionError: division by zero"
    assert any("posts/demo.md" in line for line in error.traceback)

    assert _sources(bash) == '%%bash\necho "from bash"'
    assert [(o.name, o.text) for o in bash.outputs] == [("stdout", "from bash\n")]

    # A diagram cannot run in a Python kernel: a Markdown cell with the image attached.
    assert _sources(diagram) == "![A box](attachment:output-1.svg)"
    svg = base64.b64decode(diagram.attachments["output-1.svg"]["image/svg+xml"])
    assert svg.startswith(b"<svg") and b"currentColor" not in svg

    assert _sources(end).startswith("The end, with a plain block:\n\n```python\nnot_run")
    assert _sources(end).endswith("```")

    # No exec fences: no notebook, no link.
    plain = build.post("plain-post")
    assert not plain.select("a.notebook-link")
    assert not list((build.output / "posts/plain-post").glob("*.ipynb"))

    # Same inputs, same bytes, also when every fence runs again.
    first_bytes = target.read_bytes()
    again = site(settings={"FENCES_MODE": "rerun"})
    assert again.returncode == 0, again.log
    assert target.read_bytes() == first_bytes
    assert not list(target.parent.glob(".tmp-*"))

    # A warm build copies the kept bytes (named by a digest of what they are made of, with
    # their checksum) instead of building the notebook again: a marked copy, sealed as the
    # plugin seals them, arrives as it is.
    (kept,) = (build.cache / "notebooks").rglob("*.ipynb")
    assert unseal(kept.name, kept.read_bytes()) == first_bytes
    marked = first_bytes.replace(b'"nbformat": 4', b'"nbformat": 4 ')
    kept.write_bytes(seal(kept.name, marked))
    warm = site()
    assert warm.returncode == 0, warm.log
    assert target.read_bytes() == marked != first_bytes
    assert "warning" not in warm.log


DRAFT = """
Title: Draft Notebook
Date: 2026-01-06
Status: draft

```python exec
print("not yet")
```
"""

HIDDEN = """
Title: Hidden Notebook
Date: 2026-01-07
Status: hidden

```python exec
print("unlisted")
```
"""


def _notebooks(out) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.ipynb"))


def test_only_published_posts_get_a_notebook(site, tmp_path):
    """A draft or a hidden post (status other than published) whose page is written (here a
    publish that writes them) gets no notebook in the output, nor a link;
    NOTEBOOKS_FOR_DRAFTS = True gives it one next to its page, unless it has no page (an
    empty DRAFT_SAVE_AS)."""
    files = {"posts/draft.md": DRAFT, "posts/hidden.md": HIDDEN, "posts/plain.md": PLAIN,
             "posts/demo.md": POST.split("```python exec error=true")[0]}
    build = site(files, conf="publishconf.py", settings={
        "SITEURL": "https://example.org", "WRITE_DRAFTS": True, "WRITE_HIDDEN": True})
    assert build.returncode == 0, build.log
    assert _notebooks(build.output) == ["posts/notebook-demo/notebook-demo.ipynb"]
    for page in ("drafts/draft-notebook.html", "posts/hidden-notebook/index.html"):
        written = build.html(page)
        assert written.select_one("article") and not written.select("a.notebook-link"), page

    allowed = site(settings={"NOTEBOOKS_FOR_DRAFTS": True}, output=tmp_path / "allowed")
    assert allowed.returncode == 0, allowed.log
    assert _notebooks(allowed.output) == [
        "drafts/draft-notebook.ipynb", "posts/hidden-notebook/hidden-notebook.ipynb",
        "posts/notebook-demo/notebook-demo.ipynb"]
    assert allowed.html("drafts/draft-notebook.html").select("a.notebook-link")

    no_page = site(settings={"NOTEBOOKS_FOR_DRAFTS": True, "DRAFT_SAVE_AS": "",
                             "DRAFT_URL": ""}, output=tmp_path / "no-page")
    assert no_page.returncode == 0, no_page.log
    assert "draft-notebook" not in " ".join(_notebooks(no_page.output))


def _fence(line: int, kind: str = "python") -> Fence:
    return Fence(path="/x.md", source="x.md", line=line, body_line=line + 1, kind=kind,
                 code="", exec_code="", options={}, index=0)


def test_the_source_is_cut_at_the_header_and_around_each_fence():
    text = ("---\nTitle: T\nSummary: one\n    two\n---\nFirst.\n\n"
            "  ````python exec\n  ```\n  x\n  ````\n\n> quoted\n")
    lines = source_lines(text)
    assert lines[body_start(lines)] == "First."
    assert body_start(source_lines("Title: T\n\nBody")) == 2
    assert body_start(source_lines("No header here\n")) == 0
    fence = _fence(8)
    assert fence_end(lines, fence) == 10  # the inner ``` is no closer of a ```` fence
    assert split_post(text, [fence]) == ["First.", fence, "> quoted"]
    unterminated = _fence(2)
    assert split_post("Title: T\n```python exec\nx = 1\n", [unterminated]) == [unterminated]


# A third party's kinds, each saying how its fences appear in a notebook (notebook_cell).
KINDS_PLUGIN = """
from execblog.engine import hookimpl
from execblog.engine.model import STREAM, FenceKind, Output


def run(fence, session):
    session.emit(Output(STREAM, fence.code.upper() + "\\n", {"name": "stdout"}))


@hookimpl
def fences_kinds():
    return [FenceKind(name="shouty", language="shouty", marker="exec", run=run,
                      uses_backend=False, notebook_cell="sh"),
            FenceKind(name="murmur", language="murmur", marker="exec", run=run,
                      uses_backend=False)]
"""

KINDS_POST = """Title: Kinds In A Notebook
Date: 2026-01-08

```shouty exec
echo loud
```

```murmur exec
soft
```
"""

DIAGRAM_ONLY = """Title: Only A Diagram
Date: 2026-01-09

```diagram
{"items": [{"id": "a", "type": "box", "text": "A"}]}
```
"""


def test_a_kind_declares_how_its_fences_appear_in_the_notebook(tmp_path):
    """``notebook_cell="sh"``: a ``%%sh`` code cell with its outputs; no notebook_cell: a
    Markdown cell. A post whose only fences claim a whole language (diagrams, no marker)
    gets no notebook."""
    write_files(tmp_path / "lib", {"kindsplugin.py": KINDS_PLUGIN})
    write_files(tmp_path / "content", {"posts/kinds.md": KINDS_POST,
                                       "posts/diagram.md": DIAGRAM_ONLY})
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_PLUGINS": ["kindsplugin"]},
                       env={"PYTHONPATH": str(tmp_path / "lib")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    notebook = tmp_path / "out/posts/kinds-in-a-notebook/kinds-in-a-notebook.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    _title, shouty, murmur = nb.cells
    assert (shouty.cell_type, _sources(shouty)) == ("code", "%%sh\necho loud")
    assert [(o.name, o.text) for o in shouty.outputs] == [("stdout", "ECHO LOUD\n")]
    assert shouty.execution_count == 1
    assert murmur.cell_type == "markdown"
    assert _sources(murmur) == "```murmur\nsoft\n```\n\n```text\nSOFT\n```"
    diagram_page = (tmp_path / "out/posts/only-a-diagram/index.html").read_text()
    assert "<svg" in diagram_page and "notebook-link" not in diagram_page
    assert _notebooks(tmp_path / "out") == [
        "posts/kinds-in-a-notebook/kinds-in-a-notebook.ipynb"]
