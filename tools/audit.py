"""The Lighthouse benchmark behind ``invoke audit``.

Builds the site as ``invoke publish`` would (publishconf.py: strict, absolute URLs), with
SITEURL pointed at a local server, serves it on 127.0.0.1, and runs Lighthouse (npm,
exactly LIGHTHOUSE_VERSION, installed once into .cache/node/) in Debian's Chromium on the
home page and every post, with Lighthouse's default mobile preset. Prints the four category
scores per page with CLS and TBT, the audits that cost points, and writes JSON (a summary, and
each page's full Lighthouse report beside it). A benchmark, not a test: scores below the
targets are marked, and only ``--strict`` turns them into a failure.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from execblog.sitetasks.pelican_cli import run_pelican
from invoke.exceptions import Exit

from .nodetools import ToolMissing, ensure_npm_package

LIGHTHOUSE_VERSION = "12.2.3"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}
CHROME_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic")
PAGE_TIMEOUT_S = 240


@dataclass
class PageScores:
    name: str
    url: str
    scores: dict[str, int | None] = field(default_factory=dict)  # 0-100 per category
    cls: float | None = None
    tbt_ms: float | None = None
    lost: dict[str, list[str]] = field(default_factory=dict)  # category -> audits below 1
    error: str | None = None

    def below_target(self) -> list[str]:
        return [c for c in CATEGORIES
                if self.scores.get(c) is None or self.scores[c] < TARGETS[c]]  # type: ignore


def find_chrome() -> str:
    """CHROME_PATH when set, else Debian's Chromium; Exit when there is none."""
    env = os.environ.get("CHROME_PATH")
    found = env if env and Path(env).is_file() else None
    for name in () if found else CHROME_CANDIDATES:
        found = shutil.which(name)
        if found:
            break
    if not found:
        raise Exit("invoke audit needs Chromium: apt-get install chromium (or set CHROME_PATH)",
                   code=1)
    return found


def lighthouse_cli() -> Path:
    """Lighthouse's CLI script, installed on first use; Exit when it cannot be had."""
    try:
        return ensure_npm_package("lighthouse", LIGHTHOUSE_VERSION, "cli/index.js")
    except ToolMissing as exc:
        raise Exit(f"invoke audit needs Lighthouse {LIGHTHOUSE_VERSION}: {exc}", code=1) from None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


@contextlib.contextmanager
def bound_server(folder: Path) -> Iterator[http.server.ThreadingHTTPServer]:
    """A server for folder, bound at once to a free 127.0.0.1 port (so the site can be built
    for its URL) but answering only once the caller runs ``serve_forever``."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    try:
        yield server
    finally:
        server.server_close()


def site_pages(output: Path) -> list[tuple[str, str]]:
    """(name, path) of the home page and every post written (posts/<slug>/index.html)."""
    pages = [("home", "")]
    for index in sorted(output.glob("posts/*/index.html")):
        pages.append((index.parent.name, f"posts/{index.parent.name}/"))
    return pages


def lighthouse_command(node: str, cli: Path, url: str, report: Path) -> list[str]:
    return [node, str(cli), url, "--output=json", f"--output-path={report}", "--quiet",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={' '.join(CHROME_FLAGS)}", "--max-wait-for-load=30000"]


def scores_of(report: Mapping[str, Any], name: str, url: str) -> PageScores:
    """The numbers a Lighthouse JSON report gives for one page."""
    page = PageScores(name, url)
    for cat in CATEGORIES:
        entry = report.get("categories", {}).get(cat) or {}
        score = entry.get("score")
        page.scores[cat] = None if score is None else round(score * 100)
        lost = []
        for ref in entry.get("auditRefs", []):
            audit = report["audits"].get(ref["id"], {})
            if ref.get("weight", 0) > 0 and audit.get("score") is not None \
                    and audit["score"] < 1:
                lost.append(f"{ref['id']} ({audit['score']:.2f})")
        if lost:
            page.lost[cat] = lost
    audits = report.get("audits", {})
    page.cls = (audits.get("cumulative-layout-shift") or {}).get("numericValue")
    page.tbt_ms = (audits.get("total-blocking-time") or {}).get("numericValue")
    return page


def run_lighthouse(cli: Path, chrome: str, url: str, name: str, reports: Path) -> PageScores:
    node = shutil.which("node")
    if node is None:
        raise Exit("invoke audit needs Node.js: apt-get install nodejs", code=1)
    report = reports / f"{name}.json"
    report.unlink(missing_ok=True)
    env = {**os.environ, "CHROME_PATH": chrome}
    try:
        proc = subprocess.run(lighthouse_command(node, cli, url, report), env=env,
                              capture_output=True, text=True, timeout=PAGE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return PageScores(name, url, error=f"Lighthouse took over {PAGE_TIMEOUT_S} s")
    if proc.returncode != 0 or not report.is_file():
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
        return PageScores(name, url, error=f"Lighthouse exit {proc.returncode}: {tail}")
    data = json.loads(report.read_text(encoding="utf-8"))
    page = scores_of(data, name, url)
    if data.get("runtimeError"):
        page.error = str(data["runtimeError"].get("message"))
    return page


def table(pages: list[PageScores]) -> str:
    """The printed summary: one row per page, a star on each score below its target."""
    heads = ["page", "perf", "a11y", "best-pr", "seo", "CLS", "TBT ms"]
    rows = []
    for p in pages:
        if p.error:
            rows.append([p.name, "error", "", "", "", "", ""])
            continue
        cells = [p.name]
        for cat in CATEGORIES:
            s = p.scores.get(cat)
            cells.append("-" if s is None else f"{s}{'*' if s < TARGETS[cat] else ''}")
        cells.append("-" if p.cls is None else f"{p.cls:.3f}")
        cells.append("-" if p.tbt_ms is None else f"{p.tbt_ms:.0f}")
        rows.append(cells)
    widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(len(heads))]

    def fmt(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    return "\n".join([fmt(heads), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def audit(conf: Path, content: Path, root: Path, *, output: Path | None = None,
          overrides: Mapping[str, Any] | None = None, results: Path,
          strict: bool = False) -> list[PageScores]:
    """Build (unless output is given: then that built site is audited as it is), serve,
    run Lighthouse on each page, print and write the results."""
    cli, chrome = lighthouse_cli(), find_chrome()
    reports = results.parent / "lighthouse"
    reports.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="execblog-audit-") as tmp:
        site = output or Path(tmp) / "site"
        with bound_server(site) as server:
            base = f"http://127.0.0.1:{server.server_address[1]}"
            if output is None:
                print(f"audit: building {content} with {conf.name} for {base}/ into {site}")
                run_pelican(conf, content, site, {**(overrides or {}), "SITEURL": base}, root)
            elif not (site / "index.html").is_file():
                raise Exit(f"no built site in {site} (index.html missing)", code=1)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                pages = []
                for name, path in site_pages(site):
                    print(f"audit: Lighthouse {LIGHTHOUSE_VERSION} (mobile) on /{path}",
                          flush=True)
                    pages.append(run_lighthouse(cli, chrome, f"{base}/{path}", name, reports))
            finally:
                server.shutdown()
    print()
    print(table(pages))
    for p in pages:
        if p.error:
            print(f"{p.name}: {p.error}")
        for cat, lost in p.lost.items():
            if cat != "performance" or (p.scores.get(cat) or 0) < TARGETS[cat]:
                print(f"{p.name}: {cat}: {', '.join(lost)}")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"lighthouse": LIGHTHOUSE_VERSION, "preset": "mobile",
                                   "targets": TARGETS, "pages": [asdict(p) for p in pages]},
                                  indent=1), encoding="utf-8")
    print(f"\nTargets: performance >= {TARGETS['performance']}, the others 100 (* below). "
          f"Results: {results}; full reports: {reports}/")
    missed = [p.name for p in pages if p.error or p.below_target()]
    if strict and missed:
        raise Exit(f"below the targets: {', '.join(missed)}", code=1)
    return pages
