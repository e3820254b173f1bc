"""`invoke docs`: build the documentation site in docs/ with Execblog itself.

The docs' examples are exec fences, so a strict build (``FENCES_STRICT``: any failing
example, unknown reference or Pelican error fails it) is also their test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TextIO

from execblog.sitetasks.pelican_cli import pelican_command, terminate_as_interrupt, wait

ROOT = Path(__file__).resolve().parents[1]  # the checkout (this file: tools/docs.py)
DOCS = ROOT / "docs"
CONF = DOCS / "pelicanconf.py"
CONTENT = DOCS / "content"


def build_docs(strict: bool = True, output: str | Path | None = None,
               cache: str | Path | None = None, log: TextIO | None = None) -> int:
    """Build docs/ into ``output`` (default docs/output/), with its fence cache in ``cache``
    (default docs/fence-cache/); return Pelican's exit status (0: built, every example ran).

    ``strict=False`` renders failing examples as error blocks instead of failing the build.
    ``log``: a file that gets Pelican's output (default: this process's stdout and stderr).
    """
    if not CONF.is_file():
        print(f"docs: error: {CONF} not found: the docs are built from a checkout of Execblog",
              file=sys.stderr)
        return 2
    overrides: dict[str, object] = {"FENCES_STRICT": strict}
    if cache is not None:
        overrides["FENCES_CACHE_PATH"] = str(Path(cache).resolve())
    out = Path(output).resolve() if output is not None else DOCS / "output"
    command = pelican_command(CONTENT, out, CONF, overrides)
    streams = {} if log is None else {"stdout": log, "stderr": subprocess.STDOUT}
    with terminate_as_interrupt():
        return wait(subprocess.Popen(command, cwd=ROOT, **streams))
