"""The documentation site (docs/): one real strict build, every page, every example, every link;
and the pages keep up with the code (settings, options, kinds, hooks)."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, located
from execblog.engine import hookspecs, options
from execblog.engine.manager import make_manager

from tools.docs import build_docs

CONTENT = ROOT / "docs" / "content"
PAGES = sorted(CONTENT.glob("*.md"))
CODE = ROOT / "plugins" / "execblog"


def slug(page: Path) -> str:
    return page.stem


def built_path(page: Path) -> str:
    return "index.html" if slug(page) == "index" else f"{slug(page)}/index.html"


def documented(*names: str) -> str:
    """The Markdown of the named pages (all pages when none is named)."""
    pages = [CONTENT / f"{n}.md" for n in names] if names else PAGES
    return "\n".join(p.read_text(encoding="utf-8") for p in pages)


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    """One strict build of docs/ into a temporary folder, its log and its report."""
    base = tmp_path_factory.mktemp("docs")
    log_path = base / "build.log"
    with log_path.open("w") as log:
        code = build_docs(strict=True, output=base / "out", cache=base / "cache", log=log)
    log_text = log_path.read_text()
    report = json.loads((base / "cache" / "report.json").read_text())
    return {"code": code, "log": log_text, "out": base / "out", "report": report}


def html(docs, rel: str) -> BeautifulSoup:
    return BeautifulSoup((docs["out"] / rel).read_text(encoding="utf-8"), "lxml")


def test_the_docs_build_strictly(docs):
    assert docs["code"] == 0, docs["log"]
    assert (docs["out"] / "index.html").is_file()


def test_no_page_of_the_docs_logs_a_warning(docs):
    """Strict builds fail on errors; the docs, which teach authors, have no warnings either
    (a figure without alt text, an unsupported option...)."""
    assert located(docs["log"]) == [], docs["log"]


def test_every_page_is_built_with_its_title(docs):
    assert len(PAGES) >= 9
    for page in PAGES:
        title = re.search(r"^Title: (.+)$", page.read_text(encoding="utf-8"), re.M)[1]
        built = html(docs, built_path(page))
        assert built.select_one("h1.post-title").get_text(strip=True) == title, page.name


def test_every_example_ran_and_none_failed(docs):
    fences = docs["report"]["fences"]
    assert len(fences) >= 25
    statuses = {f["status"] for f in fences}
    assert statuses <= {"ran", "expected-error", "not-run"}, [
        (f["source"], f["line"], f["status"], f.get("message")) for f in fences
        if f["status"] not in ("ran", "expected-error", "not-run")]
    sources = {f["source"] for f in fences}
    for page in PAGES:
        if re.search(r"^```(\w+ exec|diagram|shout)\b", page.read_text(), re.M):
            assert page.name in sources, page.name
    assert {f["kind"] for f in fences} >= {"python", "diagram", "bash", "cpp", "shout"}
    # the pages say "this example is shown, not run" exactly where eval=false says so
    assert [f["kind"] for f in fences if f["status"] == "not-run"] == ["cuda"]


def test_the_index_lists_every_page_authors_first_plugin_authors_last(docs):
    index = html(docs, "index.html").select_one(".post-content")
    targets = [a["href"].strip("/").removeprefix("./") for a in index.select("a[href]")
               if not urlsplit(a["href"]).scheme]
    pages = [slug(p) for p in PAGES if slug(p) != "index"]
    assert set(pages) <= set(targets), set(pages) - set(targets)
    writing = ["authoring", "languages", "diagrams", "benchmarks", "writing"]
    assert max(map(targets.index, writing)) < targets.index("settings")
    assert targets[-2:] == ["plugins", "development"]  # plugin authors and contributors last


def _local_links(soup: BeautifulSoup) -> list[str]:
    links = [a["href"] for a in soup.select("a[href]")]
    links += [i["src"] for i in soup.select("img[src]")]
    links += [link["href"] for link in soup.select("link[href]")]
    return [u for u in links if not urlsplit(u).scheme and not u.startswith("//")]


def test_every_link_between_pages_resolves(docs):
    out = docs["out"]
    checked = 0
    ids: dict[Path, set[str]] = {}
    for page in PAGES:
        source = out / built_path(page)
        soup = html(docs, built_path(page))
        for link in _local_links(soup):
            parts = urlsplit(link)
            if parts.path.startswith("/"):
                target = out / unquote(parts.path).lstrip("/")
            else:
                target = (source.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{page.name}: {link} -> {target}"
            if parts.fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = set(re.findall(r'\bid="([^"]+)"', target.read_text()))
                assert parts.fragment in ids[target], f"{page.name}: {link}: no #{parts.fragment}"
            checked += 1
    assert checked > 100


def _settings_read_by_the_code() -> set[str]:
    """Upper-case names the package reads from ``settings`` (or a template context)."""
    read = re.compile(r"""(?:settings|context)(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']""")
    return {name for path in CODE.rglob("*.py") for name in read.findall(path.read_text())}


def test_the_settings_page_documents_every_setting_we_read():
    from pelican.settings import DEFAULT_CONFIG

    pelicans = set(DEFAULT_CONFIG) | {"DEFAULT_DATE", "TIMEZONE"}  # Pelican's, no default
    made_for_the_theme = {"CANONICAL_SITEURL", "MATH_FONT"}  # our plugins set these
    ours = _settings_read_by_the_code() - pelicans - made_for_the_theme
    assert {"FENCES_CACHE_PATH", "FENCES_MEMORY", "MATH_RENDERER", "SEARCH_INDEX"} <= ours
    ours |= {"BIBLIOGRAPHY", "MATHJAX_SOURCE", "SEARCH_URL", "SEARCH_SAVE_AS",  # by constant
             "CC", "CXX", "RUSTC", "NVCC", "PAGEFIND_BINARY_PATH"}  # or template, or variable
    page = documented("settings")
    missing = sorted(name for name in ours if f"`{name}`" not in page)
    assert not missing, f"settings.md does not document {missing}"


def test_the_pages_document_every_option_and_kind():
    pm = make_manager()
    kinds = [kind for kinds in pm.hook.fences_kinds() for kind in kinds]
    names = {spec.name for kind in kinds for spec in options.kind_specs(kind)}
    names |= set(options.ALIASES) | {"backend"}
    pages = documented()
    missing = sorted(name for name in names if f"`{name}`" not in pages)
    assert not missing, f"no page documents the options {missing}"
    languages = documented("languages", "authoring", "diagrams")
    for kind in kinds:
        for opener in (kind.language, *kind.aliases):
            assert f"`{opener}`" in languages or f"```{opener}" in languages, opener


HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
         if name.startswith("fences_")]


def test_the_plugin_page_shows_every_hook_and_its_plugin_ran(docs):
    page = html(docs, "plugins/index.html")
    headings = {h["id"] for h in page.select("h3[id]")}
    assert set(HOOKS) <= headings, set(HOOKS) - headings
    table_hooks = [a.get_text() for a in page.select("table")[0].select("a[href^='#']")]
    assert sorted(table_hooks) == sorted(HOOKS)
    code = "".join(pre.get_text() for pre in page.select("pre"))
    for hook in HOOKS:  # the source the page printed is the plugin's, or the contract's
        assert f"def {hook}(" in code, hook
    text = page.get_text(" ")
    assert page.select_one("p.shout").get_text() == "HELLO FROM A PLUGIN!"  # kinds + render
    assert "HELLO FROM EXECBLOG DOCUMENTATION!" in text  # session_setup + format_value
    assert "a note the capture hook picks up" in text  # capture_outputs
    assert "abacus · Abacus · CPU" in text  # backend_candidates
    summary = json.loads((docs["out"] / "plugins" / "fences.json").read_text())
    assert [s["status"] for s in summary].count("ran") >= 8  # post_rendered
    report = docs["report"]["summary"]
    assert f"shout_plugin: {report['total']} fences, 0 failed" in docs["log"]  # build_finished
