"""Adopting Execblog: what broke when it was tried as a new user would, and stays fixed.

One real build of a blog of someone else's that chose our theme (``THEME = execblog.THEME``,
``PLUGINS = ["execblog"]``) and otherwise keeps Pelican's defaults: no ``ARCHIVES_URL`` or
any other list page's URL, Pelican's file names (archives.html, categories.html) but the tags'
page in a folder of its own (tags/index.html), no authors page.
reST posts, a translation, and a draft in a category and with a tag of its own. Its pages
are read back and every link in them is followed. The outputs' stylesheet, in Pelican's own
themes, and the requirement that ``execblog init`` writes for the GitHub workflow are
checked without a build.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pelican
import pytest
from bs4 import BeautifulSoup
from conftest import Build, run_pelican, write_files
from execblog.cli import next_steps, requirement_from
from execblog.standalone.stylesheet import follows_system_dark, stylesheet_text

SETTINGS = """
import execblog

AUTHOR = "Grace"
SITENAME = "Grace's log"
SITEURL = ""
RELATIVE_URLS = True
PATH = "content"
TIMEZONE = "Europe/Paris"
DEFAULT_LANG = "en"
THEME = execblog.THEME
PLUGINS = ["execblog"]
# Pelican's own file names for its list pages but one, whose URL is not set; no authors page.
DIRECT_TEMPLATES = ["index", "tags", "categories", "archives"]
TAGS_SAVE_AS = "tags/index.html"
"""

FILES = {
    "first.rst": """
        First post
        ##########

        :date: 2024-01-02 10:00
        :category: notes
        :tags: intro
        :slug: first-post

        Hello.
        """,
    "first-fr.rst": """
        Premier billet
        ##############

        :date: 2024-01-02 10:00
        :category: notes
        :lang: fr
        :slug: first-post

        Bonjour.
        """,
    "idea.rst": """
        An idea
        #######

        :date: 2024-02-01 10:00
        :status: draft
        :category: ideas
        :tags: intro, half-baked

        Not yet.
        """,
}
DRAFT = "drafts/an-idea.html"


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Build:
    base = tmp_path_factory.mktemp("adopted")
    conf = base / "pelicanconf.py"
    conf.write_text(textwrap.dedent(SETTINGS), encoding="utf-8")
    write_files(base / "content", FILES)
    proc = run_pelican(base / "content", base / "output", conf=str(conf),
                       settings={"FENCES_CACHE_PATH": str(base / "cache")}, cwd=base)
    built = Build(proc.returncode, proc.stdout + proc.stderr, base / "output",
                  base / "content", base / "cache")
    assert built.returncode == 0, built.log
    return built


def target(built: Build, page: str, href: str) -> Path | None:
    """The file a link on ``page`` leads to (relative, or from the site's root as canonical
    links are while SITEURL is ""); None for other sites and anchors."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    base = built.output if path.startswith("/") else (built.output / page).parent
    found = base / path.lstrip("/")
    return found / "index.html" if found.is_dir() else found


def test_the_menu_links_pelicans_own_list_pages(blog: Build) -> None:
    """Pelican has no default ARCHIVES_URL: "Archives" and "Tags" led to the home page."""
    for page in ("index.html", "first-post.html", "category/notes.html"):
        menu = {a.get_text(strip=True): a["href"]
                for a in blog.html(page).select("nav.site-nav ul.menu a")}
        assert target(blog, page, menu["Archives"]).resolve() == blog.output / "archives.html"
        assert menu["Tags"].endswith("tags/")
        assert target(blog, page, menu["Tags"]).resolve() == blog.output / "tags/index.html"
    for page, name in (("archives.html", "Archives"), ("tags/index.html", "Tags")):
        current = blog.html(page).select_one('ul.menu a[aria-current="page"]')
        assert current is not None and current.get_text(strip=True) == name


def test_breadcrumbs_lead_to_list_pages_that_exist(blog: Build) -> None:
    crumb = blog.html("category/notes.html").select_one("p.breadcrumbs a")
    assert crumb.get_text(strip=True) == "Categories"
    assert target(blog, "category/notes.html", crumb["href"]).resolve() == \
        blog.output / "categories.html"
    # No authors page is built: an author's page has no "Authors" breadcrumb to the home page.
    assert (blog.output / "author/grace.html").is_file()
    assert not (blog.output / "authors.html").exists()
    assert blog.html("author/grace.html").select("p.breadcrumbs") == []


def test_a_drafts_own_tag_and_category_are_not_linked(blog: Build) -> None:
    """Pelican makes tag and category pages from published posts only."""
    draft = blog.html(DRAFT)
    tags = {li.get_text(strip=True): li.find("a") for li in draft.select("ul.post-tags li")}
    assert set(tags) == {"intro", "half-baked"}
    assert target(blog, DRAFT, tags["intro"]["href"]).resolve() == blog.output / "tag/intro.html"
    assert tags["half-baked"] is None
    assert not (blog.output / "tag/half-baked.html").exists()
    assert draft.select("header.post-header p.breadcrumbs") == []  # "ideas" has no page
    assert not (blog.output / "category/ideas.html").exists()
    published = blog.html("first-post.html").select_one("header.post-header p.breadcrumbs a")
    assert target(blog, "first-post.html", published["href"]).resolve() == \
        blog.output / "category/notes.html"


def test_every_link_between_the_pages_leads_somewhere(blog: Build) -> None:
    followed, broken = 0, []
    for page in sorted(blog.output.rglob("*.html")):
        rel = page.relative_to(blog.output).as_posix()
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.select("a[href], link[href], img[src], script[src]"):
            href = tag.get("href") or tag.get("src")
            found = target(blog, rel, href)
            if found is None:
                continue
            followed += 1
            if not found.is_file():
                broken.append(f"{rel}: {href}")
    assert not broken, broken
    assert followed > 50


PELICAN_THEMES = Path(pelican.__file__).resolve().parent / "themes"


def test_outputs_follow_the_systems_dark_mode_only_in_a_theme_that_has_one() -> None:
    """A dark figure on Pelican's `simple` theme (no dark mode) sat on a white page."""
    assert follows_system_dark({"THEME": str(PELICAN_THEMES / "notmyidea")})
    assert not follows_system_dark({"THEME": str(PELICAN_THEMES / "simple")})
    both, light = stylesheet_text(True), stylesheet_text(False)
    assert "@media (prefers-color-scheme: dark)" in both
    assert "prefers-color-scheme" not in light
    assert light.count("{") == light.count("}")
    # The reader's explicit choice of a theme that sets data-theme still works, and every
    # output's rules other than the system's dark mode are kept.
    for rule in ('[data-theme="dark"] .fig-full.fig-dark', ".fig-full.fig-dark", ".bench-wrap",
                 "figure.diagram", ".admonition", "@font-face"):
        assert rule in light, rule
    assert len(light) > 0.9 * len(both)


def git_checkout(folder: Path, remote: str | None) -> Path:
    folder.mkdir()
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(folder), "remote", "add", "origin", remote], check=True)
    return folder


def test_a_blog_made_from_a_checkout_installs_that_checkout_on_github(tmp_path: Path) -> None:
    """`pip install /path/to/execblog` then `execblog init` wrote `execblog>=0.1.0`, which the
    blog's GitHub workflow cannot install: Execblog came from a checkout, not from PyPI."""
    github = git_checkout(tmp_path / "from-github", "git@github.com:ada/execblog.git")
    assert requirement_from({"url": github.as_uri(), "dir_info": {}}, "0.1.0") == \
        "execblog @ git+https://github.com/ada/execblog.git"
    alone = git_checkout(tmp_path / "no-remote", None)
    bare = requirement_from({"url": alone.as_uri(), "dir_info": {}}, "0.1.0")
    assert bare == "execblog>=0.1.0"
    said = next_steps(tmp_path / "blog", [Path("tasks.py")], "https://ada.example.org", bare)
    assert "The workflow installs execblog>=0.1.0 from PyPI (requirements.txt)" in said
    pinned = "execblog @ git+https://github.com/ada/execblog@0123abc"
    assert requirement_from({"url": "https://github.com/ada/execblog",
                             "vcs_info": {"vcs": "git", "commit_id": "0123abc"}}, "0.1.0") == pinned
    assert "PyPI" not in next_steps(tmp_path / "blog", [], "https://ada.example.org", pinned)
