"""searchkit: a static full-text search index, built by Pagefind once the site is written.

At Pelican's ``finalized`` signal (every page is on disk) Pagefind reads the output folder and
writes its index and its UI next to the pages, in ``<output>/pagefind/``. The theme marks what
is indexed (``data-pagefind-body`` on a post's or page's content: listings, tags and archives
are left out) and its search page (``search`` in DIRECT_TEMPLATES) loads Pagefind's UI from that
folder: the index is fetched from the site itself, never from a third party.

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
import time
from pathlib import Path
from typing import Any

from pelican import signals

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


def pagefind_command(binary: str, output: Path, bundle_dir: str) -> list[str]:
    """The command line that indexes output into output/bundle_dir."""
    return [binary, "--site", str(output), "--output-subdir", bundle_dir, "--quiet",
            *(arg for sel in EXCLUDE_SELECTORS for arg in ("--exclude-selectors", sel))]


def build_index(output: Path, bundle_dir: str = "pagefind") -> tuple[bool, str]:
    """Index output with Pagefind: (True, summary) or (False, why it could not)."""
    binary = find_pagefind()
    if binary is None:
        return False, f"Pagefind is not installed: {INSTALL_HINT}"
    start = time.perf_counter()
    try:
        proc = subprocess.run(pagefind_command(binary, output, bundle_dir), capture_output=True,
                              text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"Pagefind ({binary}) could not run: {exc}"
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return False, f"Pagefind exited with {proc.returncode}: " + " | ".join(tail)
    if not (output / bundle_dir / "pagefind.js").is_file():
        return False, f"Pagefind wrote no {bundle_dir}/pagefind.js in {output}"
    return True, f"indexed {output} into {bundle_dir}/ in {time.perf_counter() - start:.2f} s"


def _finalized(pelican: Any) -> None:
    settings = pelican.settings
    if not settings.get("SEARCH_INDEX", True):
        return
    ok, message = build_index(Path(pelican.output_path),
                              settings.get("SEARCH_BUNDLE_DIR") or "pagefind")
    if ok:
        log.info("searchkit: %s", message)
    elif settings.get("FENCES_STRICT"):
        raise SearchFailed(f"error: searchkit: {message}; the search page would find nothing "
                           "(strict mode)")
    else:
        log.warning("searchkit: %s; the site is built without a search index", message)


def register() -> None:
    signals.finalized.connect(_finalized)
