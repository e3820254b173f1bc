"""The cold-build profile (``EXECBLOG_PROFILE``, ``invoke bench --profile``) and the bench's
real markdown-exec reference, on real Pelican builds.

One profiled and one unprofiled cold build of the same small site (module-scoped), and one
Pelican build with markdown-exec's fences.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, run_pelican, write_files

from tools import perf

POSTS = {
    f"posts/p{i}.md": f"""
    Title: Post {i}
    Date: 2026-01-0{i + 1}

    ```python exec
    x = {i} + 40
    print("value", x)
    ```

    ```python exec
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, {i}]);
    ```
    """ for i in range(2)
}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{"plain": output, "profiled": output, "profile": jsonl file}: two cold builds."""
    base = tmp_path_factory.mktemp("profile")
    write_files(base / "content", POSTS)
    result: dict[str, Path] = {"profile": base / "prof" / "cold-1.jsonl"}
    result["profile"].parent.mkdir()
    for name, env in (("plain", {}), ("profiled", {"EXECBLOG_PROFILE": str(result["profile"])})):
        proc = run_pelican(base / "content", base / name,
                           settings={"FENCES_CACHE_PATH": str(base / f"cache-{name}")}, env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        result[name] = base / name
    return result


def test_profiled_build_writes_every_phase(builds: dict[str, Path]) -> None:
    lines = [json.loads(line) for line in builds["profile"].read_text().splitlines()]
    names = [line["phase"] for line in lines]
    assert names.count("session: start (plugins, namespace, limits)") == len(POSTS)
    assert names.count("session: fences (their code, imports, outputs)") == 2 * len(POSTS)
    assert names.count("figures: drawing and encoding") == len(POSTS)
    assert names.count("fork server: imports and warm-up") == 1
    assert names.count("total: Pelican process") == 1
    assert all(line["cpu"] >= 0 and line["pid"] > 0 for line in lines)


def test_phase_table_accounts_for_the_processes(builds: dict[str, Path]) -> None:
    table = perf.phase_table(builds["profile"].parent)
    assert table["figures: drawing and encoding"] > 0
    assert table["fork server: imports and warm-up"] > 0.05  # NumPy and matplotlib at least
    assert table[perf.REST["total: Pelican process"]] > 0.1  # Pelican itself
    assert "dark renderings" in table and "notebooks" in table
    assert list(table.values()) == sorted(table.values(), reverse=True)


def test_profiling_leaves_pages_byte_identical(builds: dict[str, Path]) -> None:
    for name in ("post-0", "post-1"):
        page = Path("posts", name, "index.html")
        assert (builds["plain"] / page).read_bytes() == (builds["profiled"] / page).read_bytes()
    soup = BeautifulSoup((builds["profiled"] / "posts/post-0/index.html").read_text(), "lxml")
    assert "value 40" in soup.get_text()


def test_markdown_exec_reference_prints_svg(tmp_path: Path) -> None:
    pytest.importorskip("markdown_exec")
    content = tmp_path / "mdexec"
    perf.write_site(content, 2, text=perf.markdown_exec_text)
    saved = os.environ.get("PYTHONPATH")
    try:
        seconds = perf.markdown_exec_site(content, tmp_path, ROOT / "pelicanconf.py")
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    assert seconds and seconds > 0
    soup = BeautifulSoup((tmp_path / "mdexec-out/posts/post-1/index.html").read_text(), "lxml")
    assert len(soup.select("svg g#figure_1")) == 1  # the figure its fence printed as SVG
    assert "500500.0" in soup.get_text()  # post 1: print(float(arange(1001).sum()))
    shutil.rmtree(tmp_path / "mdexec-out")
