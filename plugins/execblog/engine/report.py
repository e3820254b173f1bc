"""Report: the per-fence JSON report and the build's closing summary."""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from execblog.kernel.diagnostics import emit, shown_path
from execblog.kernel.store import atomic_write, sha256

from .model import EXPECTED_ERROR, FAILURES, RAN, STATUSES, Fence, FenceResult

RAN_NOW = {RAN, EXPECTED_ERROR, *FAILURES}  # statuses of fences that ran in this build


def build_report(entries: list[tuple[Fence, FenceResult]], wall: float,
                 params: list[dict[str, Any] | None] | None = None) -> dict[str, Any]:
    """The report: one entry per fence, and for a fence with ``params`` one per state, each
    with its values (``params``: aligned with ``entries``, None for fences without)."""
    values = params or [None] * len(entries)
    fences = [
        {
            "source": fence.source,
            # a failure: the line the log names; anything else: the fence's opening line
            "line": (result.line if result.status in FAILURES else None) or fence.line,
            "kind": fence.kind,
            "session": fence.session,
            "status": result.status,
            "seconds": round(result.seconds, 4),
            "backend": (result.backend or {}).get("name"),
            "key": fence.key,  # the cache entry it reads or writes (``invoke prune`` keeps it)
            **({"message": result.message} if result.message else {}),
            **({"ran_on": result.ran_on} if result.ran_on else {}),
            **({"params": chosen} if chosen is not None else {}),
        }
        for (fence, result), chosen in zip(entries, values, strict=True)
    ]
    counts = Counter(f["status"] for f in fences)
    summary = {
        "total": len(fences),
        **{status: counts.get(status, 0) for status in STATUSES},
        # fences a session ran in this build, whatever came of it (a bad option or a
        # frozen miss never reached one)
        "executed": sum(1 for _, r in entries if r.status in RAN_NOW and r.ran_on),
        "seconds": round(wall, 3),
        "slowest": [
            {"location": f"{f.source}:{f.line}", "seconds": round(r.seconds, 4)}
            for f, r in _slowest(entries)[:5]
        ],
    }
    return {"fences": fences, "summary": summary}


def _slowest(entries: list[tuple[Fence, FenceResult]]) -> list[tuple[Fence, FenceResult]]:
    """The fences that ran in this build, longest first. Cached fences are left out: their
    seconds are those of the build that ran them."""
    ran = [e for e in entries if e[1].status in RAN_NOW and e[1].seconds > 0]
    return sorted(ran, key=lambda e: -e[1].seconds)


def report_path(settings: dict[str, Any], cache_root: str | Path) -> Path:
    """``FENCES_REPORT``, or ``report.json`` inside the cache folder."""
    return Path(settings.get("FENCES_REPORT") or Path(cache_root) / "report.json")


def fallback_report_path(path: str | Path) -> Path:
    """Where the report goes when ``path`` cannot be written: the temporary folder, under a
    name made of the site's folder (the one above the report's) and a hash of ``path``."""
    path = Path(path).absolute()
    site = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.parent.parent.name).strip("-.") or "site"
    digest = sha256(str(path).encode())[:8]
    return Path(tempfile.gettempdir()) / f"fences-report-{site}-{digest}.json"


def write_report(report: dict[str, Any], path: str | Path) -> Path:
    """Write the report to ``path``, or, when that fails, to :func:`fallback_report_path`
    (with a warning naming both). Returns the path written; raises OSError only when
    neither could be written."""
    path = Path(path)
    data = json.dumps(report, indent=1).encode()
    try:
        atomic_write(path, data)
        return path
    except OSError as exc:
        fallback = fallback_report_path(path)
        atomic_write(fallback, data)
        emit(shown_path(str(path)), None, "warning",
             f"cannot write the report ({exc.strerror or exc}); wrote it to {fallback} instead")
        return fallback


def summary_line(report: dict[str, Any], entries: list[tuple[Fence, FenceResult]]) -> str:
    s = report["summary"]
    failed = sum(s[status] for status in FAILURES)
    ran = s.get("executed", s["ran"])  # a fence that ran and failed ran too
    text = (f"fences: {ran} ran, {s['cached']} cached, {failed} failed"
            f"{', ' + str(s['skipped']) + ' skipped' if s['skipped'] else ''}"
            f"{', ' + str(s['expected-error']) + ' expected errors' if s['expected-error'] else ''}"
            f"{', ' + str(s['not-run']) + ' not run (eval=false)' if s['not-run'] else ''}"
            f" in {s['seconds']:.2f} s")
    slowest: list[tuple[Fence, FenceResult]] = []
    for fence, result in _slowest(entries):  # a fence's states once: its slowest
        if result.seconds >= 0.01 and all(f is not fence and f.location() != fence.location()
                                          for f, _ in slowest):
            slowest.append((fence, result))
    slowest = slowest[:3]
    if slowest:
        text += "; slowest: " + ", ".join(
            f"{f.location()} ({r.seconds:.2f} s)" for f, r in slowest)
    return text
