"""Report: the per-fence JSON report and the build's closing summary."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from .cache import atomic_write
from .model import Fence, FenceResult


def build_report(entries: list[tuple[Fence, FenceResult]], wall: float) -> dict[str, Any]:
    fences = [
        {
            "source": fence.source,
            "line": fence.line,
            "kind": fence.kind,
            "session": fence.session,
            "status": result.status,
            "seconds": round(result.seconds, 4),
            "backend": (result.backend or {}).get("name"),
            "key": fence.key,  # the cache entry it reads or writes (``invoke prune`` keeps it)
            **({"message": result.message} if result.message else {}),
        }
        for fence, result in entries
    ]
    counts = Counter(f["status"] for f in fences)
    slowest = sorted(entries, key=lambda e: -e[1].seconds)[:5]
    summary = {
        "total": len(fences),
        **{status: counts.get(status, 0) for status in
           ("ran", "cached", "failed", "expected-error", "timeout", "crashed", "skipped")},
        "seconds": round(wall, 3),
        "slowest": [
            {"location": f"{f.source}:{f.line}", "seconds": round(r.seconds, 4)}
            for f, r in slowest if r.seconds > 0
        ],
    }
    return {"fences": fences, "summary": summary}


def report_path(settings: dict[str, Any], cache_root: str | Path) -> Path:
    """``FENCES_REPORT``, or ``report.json`` inside the cache folder."""
    return Path(settings.get("FENCES_REPORT") or Path(cache_root) / "report.json")


def write_report(report: dict[str, Any], path: str | Path) -> None:
    atomic_write(Path(path), json.dumps(report, indent=1).encode())


def summary_line(report: dict[str, Any], entries: list[tuple[Fence, FenceResult]]) -> str:
    s = report["summary"]
    failed = s["failed"] + s["timeout"] + s["crashed"]
    text = (f"fences: {s['ran']} ran, {s['cached']} cached, {failed} failed"
            f"{', ' + str(s['skipped']) + ' skipped' if s['skipped'] else ''}"
            f"{', ' + str(s['expected-error']) + ' expected errors' if s['expected-error'] else ''}"
            f" in {s['seconds']:.2f} s")
    ran = sorted((e for e in entries if e[1].status == "ran" and e[1].seconds >= 0.01),
                 key=lambda e: -e[1].seconds)[:3]
    if ran:
        text += "; slowest: " + ", ".join(f"{f.location()} ({r.seconds:.2f} s)" for f, r in ran)
    return text
