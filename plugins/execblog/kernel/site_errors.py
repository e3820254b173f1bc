"""Site-wide errors and the build record.

Pelican logs what it cannot read or accept (``Could not process posts/x.md``, ``Unknown
status ...``), leaves the page out and exits 0. Here every ERROR/CRITICAL record of a build
is recorded; a post Pelican could not read is printed as a located line with its reason;
a strict build (``FENCES_STRICT``) fails at the end when there was any; and once every page
is written, ``<FENCES_CACHE_PATH>/build.json`` records the build, which ``invoke publish``
checks before it deploys anything.

Records of the ``fences`` loggers are the engine's own: it locates them, lists them in its
report and enforces strict mode itself, so they are not counted again here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from execblog.kernel.store import atomic_write

from .diagnostics import emit, located, one_line, shown_path

BUILD_RECORD = "build.json"
# Pelican's content cache stores what the readers made, fence placeholders included, and
# later builds skip the Markdown extension that would have filled them in.
CONTENT_CACHE_SETTINGS = ("LOAD_CONTENT_CACHE", "CACHE_CONTENT")
# Generator lists whose objects are written to the output folder (drafts are not checked).
WRITTEN_LISTS = ("articles", "translations", "hidden_articles", "hidden_translations",
                 "pages", "hidden_pages")
_UNREADABLE = "Could not process"  # Pelican's message, logged inside its `except` block


class SiteFailed(SystemExit):
    """Ends a build with exit status 1 and one message, no traceback."""


def cache_root(settings: dict[str, Any], cwd: str | Path | None = None) -> Path:
    """The fence cache folder; a relative FENCES_CACHE_PATH is relative to where Pelican
    runs (``cwd``, default the current directory), as the engine takes it."""
    return Path(cwd or os.getcwd()) / (settings.get("FENCES_CACHE_PATH") or "fence-cache")


class ErrorRecorder(logging.Handler):
    """Keeps one located line per ERROR/CRITICAL record (the ``fences`` loggers excepted)."""

    def __init__(self, content_root: str):
        super().__init__(logging.ERROR)
        self.content_root = content_root
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "fences" or record.name.startswith("fences."):
            return
        try:
            self.errors.append(self._line(record))
        except Exception:  # noqa: BLE001 - a logging handler must never raise
            self.handleError(record)

    def _line(self, record: logging.LogRecord) -> str:
        args = record.args if isinstance(record.args, tuple) else ()
        if str(record.msg).startswith(_UNREADABLE) and args:
            exc = (record.exc_info or sys.exc_info())[1]  # exc_info only in DEBUG
            reason = _describe(exc) if exc else "unknown reason"
            path = shown_path(os.path.join(self.content_root, str(args[0])))
            return emit(path, None, "error", f"could not process: {reason}")
        message = record.getMessage()
        source = next((a.source_path for a in args if getattr(a, "source_path", None)), None)
        if source:  # a content object in the arguments: Pelican's "Skipping %s: ..." errors
            return located(shown_path(source), None, "error", message)
        return f"error: {one_line(message)}"


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class _Site:
    settings: dict[str, Any]
    recorder: ErrorRecorder
    expected: list[str] = field(default_factory=list)  # save_as of the pages to be written


_current: list[_Site] = []


def record_error(text: str) -> bool:
    """Add an already printed, located error (``path:LINE: error: ...``) to this build's
    site errors, so a strict build fails at the end as for any other; False when no build
    is recording (the caller should log it as an ERROR instead)."""
    if not _current:
        return False
    _current[0].recorder.errors.append(text)
    return True


def fail_at_end(text: str, log: logging.Logger) -> None:
    """A located error, already printed, that must fail a strict build at its end (xrefs,
    mathkit): added to the site errors, or logged as an ERROR where no build records them
    (Pelican without the fence engine), which fails the build too."""
    if not record_error(text):
        log.error("%s", text)


def initialized(pelican: Any) -> None:
    """Refuse Pelican's content cache; drop the last build's record; record errors."""
    settings = pelican.settings
    cached = [name for name in CONTENT_CACHE_SETTINGS if settings.get(name)]
    if cached:
        raise SiteFailed(
            f"error: {' and '.join(cached)} must be False: Pelican's content cache skips the "
            "fence engine's Markdown extension, so pages would be published with bare "
            "<!--fence:...--> placeholders instead of their results"
        )
    with contextlib.suppress(OSError):  # no record until this build has finished
        (cache_root(settings) / BUILD_RECORD).unlink(missing_ok=True)
    for site in _current:
        logging.getLogger().removeHandler(site.recorder)
    recorder = ErrorRecorder(settings["PATH"])
    logging.getLogger().addHandler(recorder)  # Pelican's loggers all propagate to the root
    _current[:] = [_Site(settings, recorder)]


def all_generators_finalized(generators: Any) -> None:
    """Note the output path of every article and page the writers are about to write."""
    if not _current:
        return
    seen: dict[str, None] = {}
    for generator in generators:
        for name in WRITTEN_LISTS:
            for obj in getattr(generator, name, None) or []:
                if obj.save_as:  # an empty save_as means "do not write"
                    seen.setdefault(obj.save_as)
    _current[0].expected = list(seen)


def finalized(pelican: Any) -> None:
    """Write build.json; in strict mode, fail when anything was logged as an error."""
    if not _current:
        return
    site = _current[0]
    errors, expected = site.recorder.errors, site.expected
    site.recorder.errors, site.expected = [], []  # Pelican's autoreload runs again
    missing = [p for p in expected if not os.path.isfile(os.path.join(pelican.output_path, p))]
    record = {"build_id": site.settings.get("FENCES_BUILD_ID"), "complete": True,
              "errors": errors, "written": len(expected) - len(missing), "missing": missing}
    path = cache_root(site.settings) / BUILD_RECORD
    try:
        atomic_write(path, json.dumps(record, indent=1).encode())
    except OSError as exc:  # an unwritable cache costs the record, not the site
        emit(shown_path(str(path)), None, "warning", f"cannot write the build record "
             f"({exc.strerror or exc}); `invoke publish` refuses a build without one")
    if errors and site.settings.get("FENCES_STRICT"):
        raise SiteFailed(f"{len(errors)} site error(s) (strict mode): " + "; ".join(errors))
