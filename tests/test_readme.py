"""The README's examples are posts: they build, strict, with every fence running."""

from __future__ import annotations

import json
import re

from conftest import ROOT, run_pelican, write_files

EXAMPLE = re.compile(r"^````markdown\n(.*?)^````$", re.S | re.M)


def test_readme_examples_build_strictly_and_every_fence_runs(tmp_path):
    examples = EXAMPLE.findall((ROOT / "README.md").read_text())
    assert len(examples) >= 2
    posts = {
        f"posts/example-{i}.md": text if text.startswith("Title:")
        else f"Title: README example {i}\nDate: 2026-01-0{i + 1}\n\n{text}"
        for i, text in enumerate(examples)
    }
    write_files(tmp_path / "content", posts)
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_STRICT": True})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "cache" / "report.json").read_text())
    statuses = {(f["source"], f["kind"]): f["status"] for f in report["fences"]}
    assert set(statuses.values()) == {"ran"}, statuses
    assert {kind for _, kind in statuses} == {"python", "diagram", "cpp"}
    assert "<figure" in (tmp_path / "out/posts/power-iteration-in-ten-lines/index.html").read_text()
