"""``PLUGINS = [..., "execblog"]`` in an existing Pelican blog (execblog.standalone).

A small blog of someone else's, with its own settings (URLs, author, feeds, Markdown
options), a reST post and a Markdown post with a fence, a diagram, math and a callout, built
by real Pelican in Pelican's own themes ``notmyidea`` and ``simple``. The second blog already
lists pelican-render-math and one of Execblog's parts by name, and uses relative URLs.
"""

from __future__ import annotations

import json
import posixpath
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, located, run_pelican, write_files
from execblog.standalone import PARTS, expand_plugins, stylesheet
from execblog.standalone.defaults import with_extensions

SETTINGS = """
AUTHOR = "Ada Lovelace"
SITENAME = "Ada's notebook"
SITEURL = ""
RELATIVE_URLS = {relative}
PATH = "content"
TIMEZONE = "Europe/London"
DEFAULT_LANG = "en"
ARTICLE_URL = "{{date:%Y}}/{{slug}}.html"
ARTICLE_SAVE_AS = "{{date:%Y}}/{{slug}}.html"
AUTHOR_URL = "people/{{slug}}.html"
AUTHOR_SAVE_AS = "people/{{slug}}.html"
CATEGORY_URL = "topics/{{slug}}.html"
CATEGORY_SAVE_AS = "topics/{{slug}}.html"
FEED_DOMAIN = "https://ada.example.org"
FEED_ALL_ATOM = "feeds/everything.atom.xml"
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
MARKDOWN = {{
    "extension_configs": {{
        "markdown.extensions.codehilite": {{"css_class": "highlight"}},
        "markdown.extensions.extra": {{}},
        "markdown.extensions.meta": {{}},
        "markdown.extensions.toc": {{"permalink": "\\u00b6"}},
    }},
    "output_format": "html5",
}}
THEME = "{theme}"
PLUGINS = {plugins}
"""

REST_POST = """
Plain words
###########

:date: 2026-01-02
:category: Essays

A reStructuredText post with math, :math:`\\alpha^2 + 1`, and nothing else.
"""

ABOUT_PAGE = """
About
#####

A page with no output at all.
"""

MD_POST = """
Title: A notebook
Date: 2026-02-03
Category: Essays

Euler's identity, $e^{i\\pi} + 1 = 0$, inline.

## Results

```python exec
import matplotlib.pyplot as plt
print("hello from the fence")
plt.plot([0, 1, 2], [0, 1, 4])
plt.show()
```

```diagram caption="Two boxes"
{"items": [{"id": "a", "type": "box", "text": "A"}, {"id": "b", "type": "box", "text": "B"}],
 "arrows": [{"from": "a", "to": "b"}]}
```

> [!NOTE]
> A callout.

```python exec
#| params:
#|   k: [1, 2]
print("k is", k)
```
"""

# Each theme, the blog's PLUGINS, RELATIVE_URLS, and markup of the theme's own article page.
BLOGS = {
    "notmyidea": (["execblog"], False,
                  ('head link[rel=stylesheet][href="/theme/css/main.css"]', "header#banner",
                   "footer.post-info abbr.published", "address.vcard.author a")),
    # execblog.mathkit: a part's name before it moved (now execblog.markdown.math)
    "simple": (["pelican.plugins.render_math", "execblog", "execblog.mathkit"], True,
               ("article > header h2 a[rel=bookmark]", "article > footer time",
                "article > footer address a")),
}
POST = "2026/a-notebook.html"
REST = "2026/plain-words.html"
PLAIN = "pages/about.html"


@pytest.fixture(scope="module", params=sorted(BLOGS))
def blog(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    theme = request.param
    plugins, relative, markup = BLOGS[theme]
    base = tmp_path_factory.mktemp(f"blog-{theme}")
    (base / "pelicanconf.py").write_text(textwrap.dedent(SETTINGS).format(
        relative=relative, theme=theme, plugins=json.dumps(plugins)), encoding="utf-8")
    write_files(base / "content", {"plain-words.rst": REST_POST, "a-notebook.md": MD_POST,
                                   "pages/about.rst": ABOUT_PAGE})
    proc = run_pelican(base / "content", base / "output", conf=str(base / "pelicanconf.py"),
                       settings={"FENCES_CACHE_PATH": str(base / "cache")}, cwd=base)
    return {"theme": theme, "markup": markup, "out": base / "output",
            "log": proc.stdout + proc.stderr, "returncode": proc.returncode}


def page(blog: dict, rel: str) -> BeautifulSoup:
    return BeautifulSoup((blog["out"] / rel).read_text(encoding="utf-8"), "html.parser")


def target(blog: dict, rel: str, href: str) -> Path:
    """The output file a link on page ``rel`` points at (site-absolute or relative)."""
    path = href.lstrip("/") if href.startswith("/") else posixpath.join(
        posixpath.dirname(rel), href)
    return blog["out"] / posixpath.normpath(path)


def outputs_links(soup: BeautifulSoup) -> list:
    return soup.select(f'link[rel="stylesheet"][href$="/{stylesheet.STYLESHEET}"]')


def test_the_blog_builds_with_its_own_urls_author_and_theme(blog: dict) -> None:
    assert blog["returncode"] == 0, blog["log"][-3000:]
    assert located(blog["log"]) == [], blog["log"][-3000:]  # not a warning
    post = page(blog, POST)
    for selector in blog["markup"]:  # the theme's own article markup
        assert post.select_one(selector) is not None, (blog["theme"], selector)
    author = post.select(blog["markup"][-1])
    assert [a.get_text(strip=True) for a in author] == ["Ada Lovelace"]
    assert target(blog, POST, author[0]["href"]) == blog["out"] / "people/ada-lovelace.html"
    for rel in ("people/ada-lovelace.html", "topics/essays.html", REST, PLAIN,
                "feeds/everything.atom.xml"):
        assert (blog["out"] / rel).is_file(), rel
    assert not (blog["out"] / "posts").exists()  # none of Execblog's own URL settings
    for link in post.select("link[rel=stylesheet]"):
        assert target(blog, POST, link["href"]).is_file(), link
    assert not (blog["out"] / "theme/css/authoring.css").exists()  # not Execblog's theme
    # the blog's own Markdown settings still apply (toc's permalink), with the callouts added
    assert post.select_one("h2#results a.headerlink").get_text() == "\u00b6"
    callout = post.select_one("div.admonition.note")
    assert callout and callout.select_one(".admonition-title").get_text() == "Note"


def test_the_fence_runs_in_the_blogs_theme(blog: dict) -> None:
    post = page(blog, POST)
    fences = [f for f in post.select("div.fence.fence-python")
              if not f.find_parent(class_="params-fence")]
    assert len(fences) == 1  # once, even where a part is also listed by name
    assert fences[0].select_one("pre.fence-stdout").get_text() == "hello from the fence\n"
    light = fences[0].select_one("figure.fence-figure a.fig-light img")
    dark = fences[0].select_one("figure.fence-figure a.fig-dark img")
    for img in (light, dark):
        assert target(blog, POST, img["src"]).read_bytes().lstrip().startswith(b"<")
    diagram = post.select_one("div.fence-diagram figure.diagram")
    assert diagram.select_one("svg.diagram-svg") and diagram.figcaption.get_text() == "Two boxes"
    assert len(re.findall(r"^fences: \d+ ran", blog["log"], re.M)) == 1  # one engine


@pytest.mark.parametrize("rel, tex", [(POST, "e^{i\\pi} + 1 = 0"), (REST, "\\alpha^2 + 1")])
def test_math_is_mathml_with_its_font_and_no_mathjax(blog: dict, rel: str, tex: str) -> None:
    post = page(blog, rel)
    formula = post.select_one("span.math > math")
    assert formula and formula["alttext"] == tex
    assert not post.select("article script, .entry-content script")  # no MathJax loader
    assert "mathjaxscript_pelican_" not in (blog["out"] / rel).read_text(encoding="utf-8")
    (stylesheet_link,) = outputs_links(post)
    preload = post.select_one('link[rel="preload"][as="font"]')
    assert target(blog, rel, preload["href"]).read_bytes()[:4] == b"wOF2"
    assert target(blog, rel, preload["href"]).parent == target(
        blog, rel, stylesheet_link["href"]).parent.parent / "fonts"  # where math.css points


def test_pages_with_outputs_link_the_stylesheet_and_others_do_not(blog: dict) -> None:
    post, index = page(blog, POST), page(blog, "index.html")
    (link,) = outputs_links(post)
    assert link.parent.name == "head"
    css = target(blog, POST, link["href"])
    assert css == blog["out"] / stylesheet.ASSETS_DIR / stylesheet.STYLESHEET
    text = css.read_text(encoding="utf-8")
    for rule in (".fig-full.fig-dark", "figure.diagram", ".bench-wrap", ".admonition",
                 ".fence-error", "@font-face", '[data-theme="dark"] .fence-figure'):
        assert rule in text, rule
    # The system's dark mode only where the theme has one: notmyidea does, simple does not.
    assert ("@media (prefers-color-scheme: dark)" in text) == (blog["theme"] == "notmyidea")
    (in_index,) = outputs_links(index)  # the index shows the post's summary, with its math
    assert target(blog, "index.html", in_index["href"]) == css
    assert outputs_links(page(blog, PLAIN)) == []
    assert outputs_links(page(blog, "archives.html")) == []  # titles only


def test_parameter_controls_get_their_script_in_the_blogs_theme(blog: dict) -> None:
    post = page(blog, POST)
    assert "k is 1" in post.select_one(".params-fence").get_text()
    (script,) = [s for s in post.select("head script[src]") if s["src"].endswith("params.js")]
    assert target(blog, POST, script["src"]) == (
        blog["out"] / stylesheet.ASSETS_DIR / stylesheet.PARAMS_SCRIPT)
    assert target(blog, POST, script["src"]).read_bytes() == (
        stylesheet.JS / stylesheet.PARAMS_SCRIPT).read_bytes()
    assert not page(blog, PLAIN).select('script[src$="params.js"]')


def test_the_feed_carries_the_figure_and_the_math(blog: dict) -> None:
    feed = feedparser.parse((blog["out"] / "feeds/everything.atom.xml").read_bytes())
    entry = next(e for e in feed.entries if e.title == "A notebook")
    assert entry.link == "https://ada.example.org/2026/a-notebook.html"
    content = BeautifulSoup(entry.content[0].value, "html.parser")
    srcs = [img["src"] for img in content.select("img")]
    figures = [s for s in srcs if s.startswith("https://ada.example.org/fences/")]
    assert len(figures) == 2, srcs  # the plot and the diagram, both at the blog's domain
    for src in figures:
        assert (blog["out"] / src.removeprefix("https://ada.example.org/")).is_file()
    assert content.find("math") is not None


def test_execblogs_theme_is_chosen_by_its_constant_and_links_its_own_css(tmp_path: Path) -> None:
    conf = tmp_path / "pelicanconf.py"
    conf.write_text(textwrap.dedent(SETTINGS).format(relative=False, theme="notmyidea",
                                                     plugins='["execblog"]')
                    + "import execblog\nTHEME = execblog.THEME\n", encoding="utf-8")
    write_files(tmp_path / "content", {"a-notebook.md": MD_POST})
    proc = run_pelican(tmp_path / "content", tmp_path / "output", conf=str(conf),
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache")}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "output"
    post = BeautifulSoup((out / POST).read_text(encoding="utf-8"), "html.parser")
    assert post.select_one("div.fence-python pre.fence-stdout")
    hrefs = [link["href"] for link in post.select('link[rel="stylesheet"]')]
    assert "/theme/css/authoring.css" in hrefs and "/theme/css/math.css" in hrefs, hrefs
    assert outputs_links(post) == [] and not (out / stylesheet.ASSETS_DIR).exists()
    assert (out / "theme/fonts/math.woff2").read_bytes()[:4] == b"wOF2"


# ---------------------------------------------------------------- without a build


def test_the_stylesheet_defines_every_variable_its_rules_read() -> None:
    text = stylesheet.stylesheet_text()
    defined = set(re.findall(r"(--[\w-]+):", text))
    read = set(re.findall(r"var\((--[\w-]+)\)", text))  # those read without a fallback
    assert read and read <= defined, sorted(read - defined)
    for name in stylesheet.COMPONENTS:  # each component once, as it is
        css = (stylesheet.CSS / name).read_text(encoding="utf-8")
        assert text.count(css.strip()) == 1, name


def test_importing_execblog_is_light_and_names_its_theme() -> None:
    probe = ("import sys, execblog; print(execblog.THEME); print(sorted(m for m in sys.modules "
             "if m.split('.')[0] in ('numpy', 'matplotlib', 'pelican') or "
             "m.startswith('execblog.')))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    theme, imported = proc.stdout.splitlines()
    assert Path(theme).is_absolute() and (Path(theme) / "templates/base.html").is_file()
    assert Path(theme) == ROOT / "plugins/execblog/theme"
    assert imported == "['execblog.renamed']"


def test_a_part_listed_by_its_old_name_builds_and_the_log_names_the_new_one(blog: dict) -> None:
    said = "execblog: execblog.mathkit is now execblog.markdown.math; write the new name"
    assert blog["log"].count(said) == (blog["theme"] == "simple"), blog["log"][-2000:]
    assert blog["returncode"] == 0


def test_registering_twice_connects_each_receiver_once() -> None:
    probe = """
import execblog, execblog.engine, execblog.markdown.math
from pelican import signals
from pelican.plugins import signals as module
every = [s for s in vars(module).values() if isinstance(s, type(signals.initialized))]
count = lambda: sum(len(s.receivers) for s in every)
before = count()
execblog.register()
once = count()
execblog.register(); execblog.engine.register(); execblog.markdown.math.register()
print(before, once, count())
"""
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    before, once, twice = map(int, proc.stdout.split())
    assert once > before and twice == once


def test_expand_plugins_spells_execblog_out_once() -> None:
    assert expand_plugins(["tipue_search", "execblog", "execblog.engine"]) == [
        "tipue_search", "execblog.standalone", *PARTS]
    assert expand_plugins(None) == []


def test_callouts_are_added_to_markdown_without_changing_the_blogs_own() -> None:
    callouts = "execblog.markdown.callouts"
    own = {"extension_configs": {"markdown.extensions.toc": {"permalink": True}},
           "output_format": "html5"}
    added = with_extensions(own)
    assert added == {"extension_configs": {"markdown.extensions.toc": {"permalink": True},
                                           callouts: {}, "execblog.markdown.pandoc": {}},
                     "output_format": "html5"}
    assert with_extensions(own, strict=True)["extension_configs"]["execblog.markdown.pandoc"] == {
        "strict": True}
    assert callouts not in own["extension_configs"]  # a copy: the blog's dict is unchanged
    assert callouts not in with_extensions({"extensions": [callouts]})["extension_configs"]
    configured = {"extension_configs": {callouts: {"x": 1}}}
    assert with_extensions(configured)["extension_configs"][callouts] == {"x": 1}  # its own
