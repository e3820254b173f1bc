"""Rendering of rich fence results: sub-figures and layout-ncol, output: asis, math in
Markdown and LaTeX values, hl_lines, the mime-bundle protocol and IPython.display objects.

Unit tests render Fence/FenceResult objects directly; one real build checks the pages and
the feed.
"""

from __future__ import annotations

import base64
import importlib.util
import logging
import re
import sys

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import write_files
from execblog.display import protocol as display_plugin
from execblog.display.html import latex_html
from execblog.engine.manager import make_manager
from execblog.engine.model import STREAM, Fence, FenceResult, Output, RenderContext
from execblog.engine.options import kind_specs, validate
from execblog.engine.render import Renderer, site_markdown
from pelican.plugins.render_math.pelican_mathjax_markdown_extension import (
    PelicanMathJaxExtension,
)

HAS_IPYTHON = importlib.util.find_spec("IPython") is not None
NO_IPYTHON = "IPython is not installed (optional; pip install ipython to run this test)"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16  # the signature is all the protocol checks
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="30pt" height="30pt"></svg>'


# -- unit tests: the renderer on Fence/FenceResult objects --------------------------------
def site_config() -> dict:
    math = PelicanMathJaxExtension({"mathjax_script": "", "math_tag_class": "math",
                                    "auto_insert": False})
    return {"extensions": ["markdown.extensions.extra", "markdown.extensions.meta", math],
            "extension_configs": {"markdown.extensions.meta": {}}, "output_format": "html5"}


@pytest.fixture
def render(tmp_path):
    pm = make_manager()
    kinds = {k.name: k for ks in pm.hook.fences_kinds() for k in ks}
    renderer = Renderer(pm, kinds, str(tmp_path), {"MARKDOWN": site_config()})

    def run(outputs: list[Output], code: str = "x = 1", **raw: str) -> BeautifulSoup:
        specs = kind_specs(kinds["python"])
        options = validate({k.replace("_", "-") if k != "hl_lines" else k: (v, 1)
                            for k, v in raw.items()}, specs, {})
        fence = Fence(path=str(tmp_path / "p.md"), source="p.md", line=1, body_line=2,
                      kind="python", code=code, exec_code=code, options=options, index=0)
        html = renderer.fence_html(fence, FenceResult("ran", outputs))
        return BeautifulSoup(html, "html.parser")

    return run


def figures(n: int) -> list[Output]:
    return [Output("image/svg+xml", SVG + bytes([65 + i]), {"figure": True}) for i in range(n)]


def test_several_figures_share_one_caption_as_subfigures(render):
    soup = render(figures(2) + [Output(STREAM, "after\n", {"name": "stdout"})],
                  caption="Two curves", alt="Curves")
    (outer,) = soup.select("figure.fence-figure")
    assert outer["class"] == ["fence-figure", "fence-subfigures", "fence-ncol-1"]
    subs = outer.select("figure.fence-subfigure")
    assert [s.figcaption.text for s in subs] == ["(a)", "(b)"]
    assert [s.img["alt"] for s in subs] == ["Curves (a)", "Curves (b)"]
    captions = outer.find_all("figcaption", recursive=False)
    assert [c.text for c in captions] == ["Two curves"]  # once, under them all
    assert soup.text.count("Two curves") == 1
    assert soup.select_one("pre.fence-stdout").text == "after\n"  # other outputs stay


def test_one_figure_and_uncaptioned_figures_are_unchanged(render):
    one = render(figures(1), caption="Alone", alt="A")
    assert str(one.figure).startswith(
        '<figure class="fence-figure" tabindex="0"><a class="fig-full" href="{static}/fences/')
    assert one.figure.a.img["alt"] == "A"
    assert one.figure.figcaption.text == "Alone" and not one.select(".fence-subfigure")
    plain = render(figures(2))
    assert len(plain.select("figure.fence-figure")) == 2 and not plain.select(".fence-subfigure")
    alt_only = render(figures(2), alt="Bars")
    assert [i["alt"] for i in alt_only.select("img")] == ["Bars", "Bars"]


def test_layout_ncol_groups_figures_in_columns(render):
    soup = render(figures(3), layout_ncol="3")
    outer = soup.select_one("figure.fence-subfigures")
    assert "fence-ncol-3" in outer["class"]
    assert len(outer.select("figure.fence-subfigure")) == 3
    assert not outer.select("figcaption")  # no caption: no "(a)" either
    assert "fence-ncol-2" in render(figures(2), layout_ncol="2", caption="C").figure["class"]


def test_asis_renders_stdout_and_markdown_into_the_post(render):
    outputs = [Output(STREAM, "## Result\n\nIt is $a^2$, **bold**.\n", {"name": "stdout"}),
               Output(STREAM, "to stderr\n", {"name": "stderr"}),
               Output("text/markdown", "Value: *md* $b$")]
    soup = render(outputs, output="asis")
    fence = soup.select_one("div.fence")
    assert fence.h2.text.startswith("Result")
    assert [s.text for s in soup.select("span.math")] == [r"\(a^2\)", r"\(b\)"]
    assert fence.find("strong", recursive=True).text == "bold"
    boxed = soup.select("div.fence-outputs")
    assert len(boxed) == 1 and boxed[0].select_one("pre.fence-stderr")  # only stderr boxed
    assert not soup.select(".fence-markdown, pre.fence-stdout")
    assert "Value:" in soup.text  # not eaten as Markdown metadata
    only = render(outputs[:1], output="asis")
    assert not only.select("div.fence-outputs, span.fence-backend")
    cut = render([Output(STREAM, "**x", {"name": "stdout", "truncated": 90_000})],
                 output="asis")
    assert cut.select_one("div.fence-outputs pre.fence-stdout")  # cut text stays boxed


def test_markdown_values_get_the_posts_math(render):
    soup = render([Output("text/markdown", "Euler: $e^{i\\pi}+1=0$")])
    assert soup.select_one("div.fence-markdown span.math").text == r"\(e^{i\pi}+1=0\)"


def test_latex_values_are_display_math():
    ctx = RenderContext(fence=None, result=None, link=None,  # type: ignore[arg-type]
                        markdown=site_markdown(site_config()).convert)
    cases = {r"$\displaystyle \frac{1}{2}$": r"$$\frac{1}{2}$$", r"$$x<y$$": "$$x<y$$",
             r"\[z\]": "$$z$$", r"\begin{align}a&=b\end{align}": r"\begin{align}a&=b\end{align}"}
    for tex, shown in cases.items():
        soup = BeautifulSoup(latex_html(tex, ctx), "html.parser")
        assert soup.select_one("div.fence-latex > div.math").text == shown
    mixed = BeautifulSoup(latex_html("Area $r^2$ and $$s$$ too", ctx), "html.parser")
    assert mixed.select_one("div.fence-latex span.math").text == r"\(r^2\)"


def test_hl_lines_highlight_like_plain_fences(render):
    soup = render([], code="a = 1\nb = 2\nc = 3", hl_lines="2 3")
    lines = soup.select("div.fence-source div.highlight span.hll")
    assert [s.text for s in lines] == ["b = 2\n", "c = 3\n"]
    assert not render([], code="a = 1").select("span.hll")


def test_fold_show_and_include_false(render):
    assert render([], fold="show").select_one("details.fence-fold")["open"] == ""
    assert render([], fold="true").select_one("details.fence-fold").get("open") is None
    assert str(render([Output(STREAM, "x", {"name": "stdout"})], include="false")) == ""


# -- unit tests: the display protocol -------------------------------------------------------
class Bundle:
    def __init__(self, data, meta=None):
        self.data, self.meta = data, meta

    def _repr_mimebundle_(self, include=None, exclude=None):
        return (self.data, self.meta) if self.meta is not None else self.data


class BundleAndHtml(Bundle):
    def _repr_html_(self):
        return "<b>method</b>"


class Latex:
    def _repr_latex_(self):
        return r"$\displaystyle x^2$"


class Jpeg:
    def _repr_jpeg_(self):
        return base64.b64encode(JPEG).decode()


def fmt(value, settings=None):
    return display_plugin.fences_format_value(value, settings or {})


def test_plain_text_names_no_path_of_the_build_machine(tmp_path):
    import numpy

    (module,) = fmt(numpy)
    assert module.data == "<module 'numpy' from 'numpy/__init__.py'>"
    content = tmp_path / "content"
    (path,) = fmt(str(content / "posts" / "data.csv"), {"PATH": str(content)})
    assert path.data == "'posts/data.csv'"
    (exe,) = fmt(sys.executable)
    assert sys.prefix not in exe.data and exe.data.startswith("'…/")


def test_mimebundle_latex_and_jpeg_need_no_ipython(caplog):
    (png,) = fmt(Bundle({"image/png": base64.b64encode(PNG).decode()},
                        {"image/png": {"width": 10, "alt": "dot"}}))
    assert (png.mime, png.data, png.meta) == ("image/png", PNG,
                                              {"figure": False, "width": 10, "alt": "dot"})
    (md,) = fmt(Bundle({"text/markdown": "*b*", "text/plain": "p"}))
    assert (md.mime, md.data) == ("text/markdown", "*b*")
    (html,) = fmt(BundleAndHtml({"text/markdown": "*b*"}))
    assert (html.mime, html.data) == ("text/html", "<b>method</b>")  # by type, as Jupyter
    (plain,) = fmt(type("P", (), {"_repr_mimebundle_": lambda s, **k: {"text/plain": "p"}})())
    assert (plain.mime, plain.data) == ("text/plain", "p")
    (tex,) = fmt(Latex())
    assert (tex.mime, tex.data) == ("text/latex", r"$\displaystyle x^2$")
    (jpeg,) = fmt(Jpeg())
    assert (jpeg.mime, jpeg.data) == ("image/jpeg", JPEG)
    with caplog.at_level(logging.WARNING, logger="fences.display"):
        (fallback,) = fmt(Bundle({"image/png": "bm90IHBuZw==", "text/markdown": "next"}))
    assert (fallback.mime, fallback.data) == ("text/markdown", "next")  # base64 of "not png"
    assert "_repr_mimebundle_ image/png returned str" in caplog.text and "not PNG" in caplog.text


# -- one real build ---------------------------------------------------------------------------
POST = r'''
    Title: Rendering rich
    Date: 2026-03-01
    Tags: rendering

    Prose with $x^2$.

    ```python exec caption="Two curves" alt="Curves" layout-ncol=2
    import matplotlib.pyplot as plt
    plt.plot([0, 1], [0, 1])
    plt.figure()
    plt.plot([0, 1], [1, 0]);
    ```

    ```python exec
    #| output: asis
    #| hl_lines: 2
    print("### From stdout\n")
    print("The sum $a+b$ is **bold**.")
    ```

    ```python exec
    class Tex:
        def _repr_latex_(self):
            return r"$\displaystyle \int_0^1 t\,dt$"
    class Md:
        def _repr_mimebundle_(self, include=None, exclude=None):
            return {"text/markdown": "Bundle with $e^x$"}
    display(Tex(), Md())
    ```
'''
IPYTHON_POST = r'''
    Title: IPython objects
    Date: 2026-03-02

    ```python exec
    import base64
    from IPython.display import HTML, SVG, Image, Latex, Markdown, Math, display
    display(Markdown("IPython **md** with $y$"))
    display(HTML("<b class='from-html'>hi</b>"))
    display(Math(r"\frac{1}{2}"))
    display(SVG('<svg xmlns="http://www.w3.org/2000/svg" class="from-svg"></svg>'))
    display(Image(data=base64.b64decode("PNG64"), width=10))
    display(Image(data=b"\xff\xd8\xff\xe0" + bytes(16), format="jpeg"))
    import IPython.display
    IPython.display.display_markdown("raw *bundle*", raw=True)
    Latex(r"Text with $z$")
    ```
'''.replace("PNG64", base64.b64encode(PNG).decode())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("rendering")
    files = {"posts/rich.md": POST}
    if HAS_IPYTHON:
        files["posts/ipy.md"] = IPYTHON_POST
    write_files(base / "content", files)
    from conftest import run_pelican

    proc = run_pelican(base / "content", base / "out", settings={
        "FENCES_CACHE_PATH": str(base / "cache"), "FENCES_STRICT": True})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log

    def page(slug: str) -> BeautifulSoup:
        return BeautifulSoup((base / "out" / "posts" / slug / "index.html").read_text(),
                             "html.parser")

    return {"page": page, "log": log, "out": base / "out"}


def test_built_page_subfigures_asis_hl_lines_and_math(built):
    page = built["page"]("rendering-rich")
    fences = page.select("div.fence")
    outer = fences[0].select_one("figure.fence-figure.fence-subfigures.fence-ncol-2")
    assert [f.figcaption.text for f in outer.select("figure.fence-subfigure")] == ["(a)", "(b)"]
    assert [i["alt"] for i in outer.select("a.fig-full:not(.fig-dark) img")] == [
        "Curves (a)", "Curves (b)"]
    assert [c.text for c in outer.find_all("figcaption", recursive=False)] == ["Two curves"]
    asis = fences[1]
    assert asis.h3 is not None and asis.h3.text.startswith("From stdout")
    assert asis.select_one("p span.math math")["alttext"] == "a+b"  # MathML (mathkit)
    assert not asis.select("div.fence-outputs, pre.fence-stream")
    assert [s.text for s in asis.select("span.hll")] == ['print("The sum $a+b$ is **bold**.")\n']
    rich = fences[2]
    assert rich.select_one("div.fence-latex div.math math")["alttext"] == r"\int_0^1 t\,dt"
    assert rich.select_one("div.fence-markdown span.math math")["alttext"] == "e^x"
    assert page.select_one('link[href$="theme/css/math.css"]')  # the page loads math.css...
    assert not page.find("script", src=re.compile("MathJax"))  # ...and no script
    css = (built["out"] / "theme" / "css" / "authoring.css").read_text()
    assert ".fence-ncol-2" in css and "max-width: 600px" in css


def test_built_feed_carries_subfigures_and_mathml(built):
    feed = feedparser.parse(str(built["out"] / "feeds" / "all.atom.xml"))
    (entry,) = [e for e in feed.entries if e.title == "Rendering rich"]
    html = BeautifulSoup(entry.content[0].value, "html.parser")
    assert len(html.select("figure.fence-subfigures figure.fence-subfigure")) == 2
    assert len(html.find_all("math")) == 4  # prose, asis, LaTeX value, bundle Markdown...
    assert all(m.find("math") for m in html.select("span.math, div.math"))  # ...as MathML


@pytest.mark.skipif(not HAS_IPYTHON, reason=NO_IPYTHON)
def test_ipython_display_objects(built):
    fence = built["page"]("ipython-objects").select_one("div.fence")
    assert fence.select_one("div.fence-markdown strong").text == "md"
    assert fence.select_one("div.fence-markdown span.math math")["alttext"] == "y"  # MathML
    assert fence.select_one("div.fence-html b.from-html").text == "hi"
    assert [d.math["alttext"] for d in fence.select("div.fence-latex div.math")] == [
        r"\frac{1}{2}"]
    assert fence.select_one("div.fence-html svg.from-svg") is not None
    imgs = [i["src"].rsplit(".", 1)[1] for i in fence.select("figure.fence-figure img")]
    assert imgs == ["png", "jpg"]
    assert fence.select_one("figure.fence-figure img")["width"] == "10"
    assert fence.select_one("div.fence-markdown em").text == "bundle"
    assert fence.select_one("div.fence-latex p span.math math")["alttext"] == "z"
    assert "IPython.core.display" not in fence.text  # nothing printed as "<... object>"
