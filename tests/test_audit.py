"""`invoke audit` (tools/audit.py): which pages it audits, how it reads a
Lighthouse report and what it prints. Lighthouse itself is not run here (about 20 s a page):
`invoke audit` is a benchmark the maintainers run, not a test."""

from __future__ import annotations

from pathlib import Path

from tools.audit import (
    CATEGORIES,
    PageScores,
    lighthouse_command,
    scores_of,
    site_pages,
    table,
)


def test_site_pages_are_the_home_page_and_every_post(tmp_path: Path) -> None:
    for rel in ("index.html", "posts/b-post/index.html", "posts/a-post/index.html",
                "tags/index.html", "about/index.html"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("<html></html>", encoding="utf-8")
    assert site_pages(tmp_path) == [("home", ""), ("a-post", "posts/a-post/"),
                                    ("b-post", "posts/b-post/")]


def _report(scores: dict[str, float], failing: dict[str, float]) -> dict:
    """A Lighthouse JSON report's shape: categories with weighted audit refs, and audits."""
    audits = {"cumulative-layout-shift": {"score": 1, "numericValue": 0.0123},
              "total-blocking-time": {"score": 1, "numericValue": 42.4},
              "color-contrast": {"score": failing.get("color-contrast", 1)},
              "meta-description": {"score": 1}, "unweighted": {"score": 0}}
    refs = {"performance": ["cumulative-layout-shift", "total-blocking-time"],
            "accessibility": ["color-contrast", "unweighted"], "best-practices": [],
            "seo": ["meta-description"]}
    return {"audits": audits, "categories": {
        cat: {"score": scores[cat], "auditRefs": [
            {"id": a, "weight": 0 if a == "unweighted" else 1} for a in refs[cat]]}
        for cat in CATEGORIES}}


def test_scores_of_reads_categories_metrics_and_lost_points() -> None:
    report = _report({"performance": 0.97, "accessibility": 0.9, "best-practices": 1,
                      "seo": 1}, {"color-contrast": 0})
    page = scores_of(report, "home", "http://127.0.0.1:1/")
    assert page.scores == {"performance": 97, "accessibility": 90, "best-practices": 100,
                           "seo": 100}
    assert (page.cls, page.tbt_ms) == (0.0123, 42.4)
    assert page.lost == {"accessibility": ["color-contrast (0.00)"]}  # weight-0 audits skipped
    assert page.below_target() == ["accessibility"]


def test_the_table_marks_scores_below_their_targets() -> None:
    good = scores_of(_report({"performance": 0.95, "accessibility": 1, "best-practices": 1,
                              "seo": 1}, {}), "home", "u")
    slow = scores_of(_report({"performance": 0.94, "accessibility": 1, "best-practices": 0.96,
                              "seo": 1}, {}), "a-post", "u")
    broken = PageScores("b-post", "u", error="Lighthouse exit 1")
    lines = table([good, slow, broken]).splitlines()
    assert lines[0].split() == ["page", "perf", "a11y", "best-pr", "seo", "CLS", "TBT", "ms"]
    assert lines[2].split() == ["home", "95", "100", "100", "100", "0.012", "42"]
    assert lines[3].split() == ["a-post", "94*", "100", "96*", "100", "0.012", "42"]
    assert lines[4].split() == ["b-post", "error"]


def test_lighthouse_runs_headless_without_sandbox_on_the_four_categories() -> None:
    cmd = lighthouse_command("node", Path("cli/index.js"), "http://127.0.0.1:1/", Path("r.json"))
    assert cmd[:3] == ["node", "cli/index.js", "http://127.0.0.1:1/"]
    flags = next(a for a in cmd if a.startswith("--chrome-flags="))
    assert "--headless=new" in flags and "--no-sandbox" in flags
    assert "--only-categories=performance,accessibility,best-practices,seo" in cmd
    assert not any(a.startswith(("--preset", "--form-factor")) for a in cmd)  # mobile default
