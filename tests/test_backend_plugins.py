"""Backends come only through candidates: a third-party backend plugin needs no engine edit.

The plugin below is a real module written into a temporary folder, put on PYTHONPATH and
listed in FENCES_PLUGINS; the sites are built by real Pelican.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy
import pytest
from bs4 import BeautifulSoup
from conftest import auto_backend, run_pelican, write_files
from execblog.backends import numpy_backend
from execblog.engine.backends import BackendCandidate, BackendResolver, BackendUnavailable

PLUGIN = '''
import numpy

from execblog.engine import hookimpl
from execblog.engine.backends import ArrayBackend, BackendCandidate, Timing, WallClock, cpu_name


class TorchTicks:
    """Its own timer: the wall clock under another name, so the table can tell."""

    name = "torch-ticks"
    description = "torchlike ticks (wall clock)"

    def __call__(self, thunk, *, budget, warmup, min_repeats):
        timing = WallClock()(thunk, budget=budget, warmup=warmup, min_repeats=min_repeats)
        return Timing(timing.samples, timing.loops)


def probe():
    return ArrayBackend(name="torchlike", xp=numpy, device=cpu_name(),
                        versions={"Torchlike": "0.1", "NumPy": numpy.__version__},
                        is_gpu=False, to_numpy=numpy.asarray, pretty="Torchlike",
                        timer=TorchTicks())


@hookimpl
def fences_backend_candidates():
    return [BackendCandidate(name="torchlike", pretty="Torchlike", preference=-5,
                             installed=lambda: True, probe=probe)]
'''

RUNS = """
    Title: Runs
    Date: 2026-08-01

    ```python exec backend=torchlike
    print(backend.name, backend.label, backend.is_gpu, xp.__name__)
    ```

    ```python exec backend=auto
    print(backend.name, backend.label)
    ```

    ```python exec
    import json

    def make_sum(xp, n):
        a = xp.ones(n, dtype=xp.float32)
        return lambda: a.sum()

    table = benchmark(make_sum, params={"n": [1_000, 10_000]},
                      backends=("numpy", "torchlike"), budget=0.01, warmup=1, min_repeats=3)
    print(json.dumps([[r["backend"], r["timer"], r["speedup"]] for r in table.rows]))
    table
    ```
    """

BAD = """
    Title: Bad
    Date: 2026-08-02

    Some text.

    ```python exec backend=nonsense
    print("never")
    ```
    """


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("backend-plugins")
    write_files(base / "lib", {"torchlike.py": PLUGIN})
    write_files(base / "content", {"posts/runs.md": RUNS, "posts/bad.md": BAD})
    proc = run_pelican(base / "content", base / "out",
                       settings={"FENCES_CACHE_PATH": str(base / "cache"),
                                 "FENCES_PLUGINS": ["torchlike"]},
                       env={"PYTHONPATH": str(base / "lib")})
    report = json.loads((base / "cache/report.json").read_text())
    return proc, base, report


def page(base: Path, slug: str) -> BeautifulSoup:
    return BeautifulSoup((base / f"out/posts/{slug}/index.html").read_text(), "html.parser")


def fences(base: Path, slug: str) -> list:
    return page(base, slug).select("div.fence")


def test_build_succeeds_with_the_plugin(built):
    proc, _, report = built
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = [f for f in report["fences"] if f["source"] == "posts/runs.md"]
    assert [f["status"] for f in runs] == ["ran", "ran", "ran"]


def test_backend_torchlike_runs_on_the_plugin(built):
    _, base, report = built
    first = fences(base, "runs")[0]
    assert first.select_one("pre.fence-stdout").text == "torchlike Torchlike False numpy\n"
    label = first.select_one("span.fence-backend")
    assert label.text == "Torchlike" and label["data-backend"] == "torchlike"
    runs = [f for f in report["fences"] if f["source"] == "posts/runs.md"]
    assert runs[0]["backend"] == "torchlike"


def test_auto_never_picks_a_backend_below_numpy(built):
    """``auto`` gives what this machine has best (CuPy on a GPU, NumPy elsewhere), never the
    plugin below NumPy."""
    _, base, report = built
    second = fences(base, "runs")[1]
    label = second.select_one("span.fence-backend")
    if auto_backend() == "numpy":
        assert second.select_one("pre.fence-stdout").text == "numpy NumPy\n"
        assert label.text == "NumPy"
    else:
        assert second.select_one("pre.fence-stdout").text.startswith("cupy CuPy · ")
        assert label.text.startswith("CuPy · ")
    assert label["data-backend"] == auto_backend()
    backends = [f["backend"] for f in report["fences"] if f["source"] == "posts/runs.md"]
    assert backends[:2] == ["torchlike", auto_backend()]


def test_benchmark_table_shows_the_plugin_backend(built):
    _, base, _ = built
    third = fences(base, "runs")[2]
    rows = json.loads(third.select_one("pre.fence-stdout").text)
    assert [r[:2] for r in rows] == [["numpy", "perf_counter"], ["torchlike", "torch-ticks"]] * 2
    assert all(r[2] is not None and r[2] > 0 for r in rows)  # a speedup on every row
    table = third.select_one("table.bench")
    headers = [th.text for th in table.select("thead th")]
    assert headers == ["n", "Backend", "Median", "IQR", "vs NumPy"]
    cells = [[td.text for td in tr.find_all("td")] for tr in table.select("tbody tr")]
    assert [c[1] for c in cells] == ["NumPy", "Torchlike", "NumPy", "Torchlike"]
    assert all(re.fullmatch(r"[\d.,]+×", c[-1]) for c in cells)
    foot = third.select_one("p.bench-foot").text
    assert "Torchlike: " in foot and "Torchlike 0.1" in foot
    assert f"NumPy {numpy.__version__}" in foot
    assert "Torchlike: torchlike ticks (wall clock)." in foot  # the plugin's own timer
    assert "NumPy: wall-clock time.perf_counter" in foot


def test_unknown_backend_is_a_located_error_naming_the_valid_ones(built):
    proc, base, report = built
    log = re.sub(r"\s+", " ", proc.stdout + proc.stderr)
    assert ("posts/bad.md:6: error: bad value 'nonsense' for option 'backend': "
            "expected one of auto, cupy, numpy, torchlike") in log, log
    (bad,) = [f for f in report["fences"] if f["source"] == "posts/bad.md"]
    assert bad["status"] == "failed" and bad["line"] == 6
    assert "torchlike" in page(base, "bad").select_one(".fence-error").text


def test_fences_backend_setting_takes_plugin_names_and_refuses_others(tmp_path):
    write_files(tmp_path / "lib", {"torchlike.py": PLUGIN})
    write_files(tmp_path / "content", {"posts/a.md": """
        Title: A
        Date: 2026-08-03

        ```python exec
        print(backend.name)
        ```
        """})

    def build(backend: str):
        return run_pelican(tmp_path / "content", tmp_path / "out",
                           settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                     "FENCES_PLUGINS": ["torchlike"], "FENCES_BACKEND": backend},
                           env={"PYTHONPATH": str(tmp_path / "lib")})

    good = build("torchlike")
    assert good.returncode == 0, good.stdout + good.stderr
    html = (tmp_path / "out/posts/a/index.html").read_text()
    assert "torchlike\n" in html and ">Torchlike</span>" in html
    bad = build("nonsense")
    assert bad.returncode != 0
    assert ("settings: error: FENCES_BACKEND = 'nonsense' is not valid: "
            "expected one of auto, cupy, numpy, torchlike") in bad.stdout + bad.stderr


def test_resolver_keeps_low_preference_backends_out_of_auto():
    """Even when nothing else runs, ``auto`` does not fall through to a low-preference one."""
    low = BackendCandidate(name="lowly", pretty="Lowly", preference=-1, installed=lambda: True,
                           probe=numpy_backend.fences_backend_candidates()[0].probe)
    alone = BackendResolver([low])
    with pytest.raises(BackendUnavailable):
        alone.get("auto")
    by_name = alone.get("lowly")
    assert by_name.xp is numpy and alone.pretty("lowly") == "Lowly"
    both = BackendResolver([low, *numpy_backend.fences_backend_candidates()])
    assert both.get("auto").name == "numpy" and both.get("auto").label == "NumPy"
