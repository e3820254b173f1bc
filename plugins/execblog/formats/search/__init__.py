"""searchkit: a static full-text search index, built by Pagefind once the site is written.

At Pelican's ``finalized`` signal (every page is on disk) Pagefind reads the output folder and
writes its index and its UI next to the pages, in ``<output>/pagefind/``. The theme marks what
is indexed (``data-pagefind-body`` on a post's or page's content: listings, tags and archives
are left out) and its search page (``search`` in DIRECT_TEMPLATES) loads Pagefind's UI from that
folder: the index is fetched from the site itself, never from a third party.

Only a site whose search page is ours is indexed (``decision``): where the blog has its own
search (another search plugin, or its own page at the search page's path) or no search page
at all (a theme without search.html, such as Pelican's own), nothing is indexed and one line
in the build log says why.

Drafts and hidden posts and pages are never indexed, even where the build writes them (a
development build does, for preview): Pagefind reads a copy of the output's HTML files (hard
links in a temporary folder) that leaves their pages out, and writes the index into the
output.

Pagefind comes from PyPI (``pip install 'pagefind[bin]'``: its binary ships in the wheel). A
build where it cannot be found, or where indexing fails, goes on with a warning naming what to
install; a strict build (``FENCES_STRICT``, as publishconf sets it) fails instead.

Settings: ``SEARCH_INDEX`` (default True; False skips indexing) and ``SEARCH_BUNDLE_DIR``
(default ``"pagefind"``, the folder inside the output; the search page reads it too).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pelican import signals

from execblog.formats.sitefiles.owned import restore_direct_templates
from execblog.formats.sitefiles.unlisted import save_as_paths, unlisted_objects

from .decision import why_not_index

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'pagefind[bin]>=1.5' (the binary ships in the wheel)"
# Inside indexed content, what is not prose: heading permalinks ("#") and copy buttons.
# Heading permalinks and copy buttons are chrome; MathML's text reads as "X⋆=argminXf(X)"
# in a result snippet, so formulas are left out of the index too.
EXCLUDE_SELECTORS = (".headerlink", ".copy-button", "math")
TIMEOUT_S = 300


class SearchFailed(SystemExit):
    """Ends a strict build with exit status 1 and one message, no traceback."""


def find_pagefind() -> str | None:
    """The Pagefind binary, or None: ``$PAGEFIND_BINARY_PATH`` when set (and only it), else
    the PyPI package's, else ``pagefind`` on PATH."""
    env = os.environ.get("PAGEFIND_BINARY_PATH")
    if env:
        return env if Path(env).is_file() else None
    try:
        from pagefind_bin import get_executable
    except ImportError:
        pass
    else:
        with contextlib.suppress(OSError):
            return str(get_executable())
    return shutil.which("pagefind")


def pagefind_command(binary: str, site: Path, bundle: Path) -> list[str]:
    """The command line that indexes the HTML files under site into the folder bundle."""
    return [binary, "--site", str(site), "--output-path", str(bundle), "--quiet",
            *(arg for sel in EXCLUDE_SELECTORS for arg in ("--exclude-selectors", sel))]


def indexed_pages(output: Path, bundle_dir: str, skip: Iterable[str] = ()) -> list[str]:
    """The HTML files under output that Pagefind reads ("/"-separated, relative): every one
    but those in skip (the unlisted pages) and those in the index's own folder."""
    skipped = set(skip)
    bundle = bundle_dir.strip("/") + "/"
    found = []
    for folder, _, files in os.walk(output):
        base = Path(folder).relative_to(output).as_posix()
        for name in files:
            rel = name if base == "." else f"{base}/{name}"
            if name.endswith(".html") and rel not in skipped and not rel.startswith(bundle):
                found.append(rel)
    return sorted(found)


def _mirror(output: Path, pages: list[str], into: Path) -> None:
    """Hard links (copies across filesystems) of output's pages under into."""
    for rel in pages:
        target = into / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(output / rel, target)
        except OSError:
            shutil.copyfile(output / rel, target)


def build_index(output: Path, bundle_dir: str = "pagefind",
                skip: Iterable[str] = ()) -> tuple[bool, str]:
    """Index output's pages but those in ``skip`` with Pagefind into output/bundle_dir:
    (True, summary) or (False, why it could not)."""
    binary = find_pagefind()
    if binary is None:
        return False, f"Pagefind is not installed: {INSTALL_HINT}"
    start = time.perf_counter()
    pages = indexed_pages(output, bundle_dir, skip)
    with tempfile.TemporaryDirectory(prefix="searchkit-") as tmp:
        try:
            _mirror(output, pages, Path(tmp))
        except OSError as exc:
            return False, f"cannot gather the pages to index: {exc}"
        try:
            proc = subprocess.run(pagefind_command(binary, Path(tmp), output / bundle_dir),
                                  capture_output=True, text=True, timeout=TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"Pagefind ({binary}) could not run: {exc}"
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return False, f"Pagefind exited with {proc.returncode}: " + " | ".join(tail)
    if not (output / bundle_dir / "pagefind.js").is_file():
        return False, f"Pagefind wrote no {bundle_dir}/pagefind.js in {output}"
    unlisted = sum((output / rel).is_file() for rel in set(skip))
    left_out = f" ({unlisted} unlisted page(s) left out)" if unlisted else ""
    return True, (f"indexed {output} into {bundle_dir}/ in {time.perf_counter() - start:.2f} s"
                  + left_out)


class _Build:
    """This build's decision and the output paths of its drafts and hidden pages."""

    index: bool = False
    unlisted: set[str] = set()


def _collect(generators: list[Any]) -> None:
    settings = generators[0].settings if generators else {}
    _Build.index = bool(settings.get("SEARCH_INDEX", True)) and why_not_index(generators) is None
    _Build.unlisted = save_as_paths(unlisted_objects(generators))


def _finalized(pelican: Any) -> None:
    settings = pelican.settings
    index, skip = _Build.index, _Build.unlisted
    _Build.index, _Build.unlisted = False, set()
    restore_direct_templates()
    if not index:
        return
    ok, message = build_index(Path(pelican.output_path),
                              settings.get("SEARCH_BUNDLE_DIR") or "pagefind", skip)
    if ok:
        log.info("searchkit: %s", message)
    elif settings.get("FENCES_STRICT"):
        raise SearchFailed(f"error: searchkit: {message}; the search page would find nothing "
                           "(strict mode)")
    else:
        log.warning("searchkit: %s; the site is built without a search index", message)


def register() -> None:
    signals.all_generators_finalized.connect(_collect)
    signals.finalized.connect(_finalized)
