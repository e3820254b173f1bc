"""The README: short, the two commands at the top, no internals, and its cheat sheet is a post
that builds strictly with every fence running. (What the README used to document is in the
docs site now: tests/test_docs.py checks those pages.)"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from conftest import ROOT, run_pelican, write_files

README = (ROOT / "README.md").read_text(encoding="utf-8")
SETUP_AND_BUILD = ('python3 -m venv .venv && .venv/bin/pip install -e . && '
                   '.venv/bin/invoke build')
SETUP_AND_TEST = ('python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && '
                  '.venv/bin/python -m pytest')
EXAMPLE = re.compile(r"^````markdown\n(.*?)^````$", re.S | re.M)


def test_the_readme_is_at_most_1500_words():
    words = len(README.split())  # prose and code alike
    assert words <= 1500, f"README.md has {words} words"


def test_the_two_commands_come_first_word_for_word():
    top = README.split("\n## ")[0]
    blocks = re.findall(r"^```bash\n(.*?)\n```$", top, re.S | re.M)
    assert blocks[:2] == [SETUP_AND_BUILD, SETUP_AND_TEST]
    assert SETUP_AND_TEST in (ROOT / ".ci" / "run").read_text()  # CI runs the README's


def test_the_readme_has_the_promised_sections_and_no_internals():
    headings = re.findall(r"^## (.+)$", README, re.M)
    assert headings == ["Make it yours", "Adding it to an existing Pelican blog",
                        "Author cheat sheet", "Performance", "Architecture",
                        "Documentation"]
    steps = re.findall(r"^\d\. ", README.split("## Make it yours")[1].split("\n## ")[0], re.M)
    assert len(steps) == 5
    assert re.search(r'PLUGINS = \[\.\.\., "execblog"\]', README)
    assert "invoke docs" in README and "docs/" in README
    for internal in ("fork server", "guardian", "lighthouse", "renameat2", "cgroup"):
        assert internal not in README.lower(), internal


def test_the_cheat_sheet_builds_strictly_and_every_fence_runs(tmp_path):
    (post,) = EXAMPLE.findall(README)
    assert len(post.splitlines()) <= 60  # one screen
    write_files(tmp_path / "content", {"posts/cheat-sheet.md": post})
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_STRICT": True})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ": warning:" not in proc.stdout + proc.stderr
    page = BeautifulSoup((tmp_path / "out/posts/power-iteration-in-ten-lines/index.html")
                         .read_text(), "lxml")
    assert page.select_one('a.xref[href="#fig-conv"]').get_text() == "Figure 1"
    assert page.select_one("#fig-conv figure img")["alt"].startswith("The error falls")
    assert page.select("table.bench tbody tr")  # the benchmark ran: its rows
    assert page.select_one("figure.diagram svg")
    assert page.select("math")


def test_every_link_of_the_readme_to_the_repository_resolves():
    links = [link for link in re.findall(r"\]\(([^)\s]+)\)", README) if "://" not in link]
    assert any(link.startswith("docs/content/") for link in links)
    missing = [link for link in links if not (ROOT / link.split("#")[0]).exists()]
    assert not missing, missing
