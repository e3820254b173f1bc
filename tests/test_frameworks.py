"""PyTorch and JAX fences, honest labels, lazy ``auto`` and benchmarks across frameworks.

Built for real with the CPU builds of PyTorch and JAX that the test extra installs; where a
framework is missing the test says so and skips (CI installs both: it never skips there).
"""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
from conftest import auto_backend, in_child, run_pelican, write_files

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="PyTorch is not installed (the test extra has it)")
needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                               reason="JAX is not installed (the test extra has it)")


def torch_pretty() -> str:
    import importlib.metadata

    return "PyTorch " + ".".join(importlib.metadata.version("torch").split("+")[0].split(".")[:2])


def _ask(probe: str) -> str:
    """What ``probe`` prints last, in a child process; CPU when it fails."""
    ok, said = in_child(probe)
    return said if ok and said else "CPU"


def torch_device_label() -> str:
    """Where ``backend=torch`` computes here: the GPU's name, or CPU."""
    return _ask("import torch\nprint(torch.cuda.get_device_name(0) "
                "if torch.cuda.is_available() else 'CPU')")


def jax_device_label() -> str:
    """Where JAX computes here: the GPU's name, or CPU."""
    return _ask("import jax\nd = jax.devices()[0]\n"
                "print(d.device_kind if d.platform in ('gpu', 'cuda', 'rocm') else 'CPU')")


def labels(build, slug: str) -> list[str]:
    return [span.text for span in build.post(slug).select("span.fence-backend")]


MUON = '''
Title: Muon
Date: 2026-05-01

The Newton–Schulz iteration as the Muon optimiser publishes it.

```python exec backend=torch
import torch

def zeropower_via_newtonschulz5(G, steps: int):
    assert G.ndim >= 2
    a, b, c = (3.4445, -4.7750, 2.0315)
    X = G.bfloat16()
    if G.size(-2) > G.size(-1):
        X = X.mT
    X = X / (X.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    for _ in range(steps):
        A = X @ X.mT
        B = b * A + c * A @ A
        X = a * X + B @ X
    if G.size(-2) > G.size(-1):
        X = X.mT
    return X

torch.manual_seed(0)
G = torch.randn(64, 32)
O = zeropower_via_newtonschulz5(G, steps=5)
s = torch.linalg.svdvals(O.float())
print(f"singular values in [{s.min():.2f}, {s.max():.2f}]")
```

```python exec
import torch
t = torch.ones(3) * 2
print(int(t.sum()))
```

```python exec
print("no arrays here")
```
'''


@needs_torch
def test_published_muon_code_runs_under_backend_torch(site):
    build = site({"posts/muon.md": MUON})
    assert build.returncode == 0, build.log
    post = build.post("muon")
    outs = [pre.text for pre in post.select("pre.fence-stdout")]
    low, high = map(float, re.findall(r"\[(\S+), (\S+)\]", outs[0])[0])
    assert 0.4 < low <= high < 1.3  # Newton–Schulz pushes singular values towards 1
    assert outs[1:] == ["6\n", "no arrays here\n"]
    where = torch_device_label()
    pretty = torch_pretty()
    # backend=torch: the framework and its device (made PyTorch's default device, so the
    # next fence's torch.ones lands there too); a torch fence under auto is labelled with
    # what it computed with (not "NumPy"); a fence with no arrays keeps the plain fallback
    assert labels(build, "muon") == [f"{pretty} · {where}", f"{pretty} · {where}", "NumPy"]
    fences = build.report["fences"]
    assert [f["backend"] for f in fences] == ["torch", "torch", "numpy"]


@needs_jax
def test_jax_fence_through_xp(site):
    build = site({"posts/jx.md": """
        Title: JAX
        Date: 2026-05-02

        ```python exec backend=jax
        a = xp.linspace(0.0, 1.0, 5)
        print(type(a).__module__.split(".")[0], float(xp.sum(a)), to_numpy(a).dtype)
        ```
        """})
    assert build.returncode == 0, build.log
    assert build.post("jax").select_one("pre.fence-stdout").text.startswith("jax")
    assert " 2.5 float32" in build.post("jax").select_one("pre.fence-stdout").text
    assert labels(build, "jax") == [f"JAX · {jax_device_label()}"]
    span = build.post("jax").select_one("span.fence-backend")
    assert span["data-backend"] == "jax" and "JAX" in span["title"]


@needs_torch
def test_a_fence_that_mixes_frameworks_names_them_all(site):
    build = site({"posts/mix.md": """
        Title: Mix
        Date: 2026-05-03

        ```python exec
        import torch
        a = xp.arange(4)
        weights = [torch.ones(2), torch.zeros(2)]
        print(int(a.sum()), len(weights))
        ```
        """})
    assert build.returncode == 0, build.log
    first = "NumPy" if auto_backend() == "numpy" else "CuPy"
    (label,) = labels(build, "mix")
    assert label.startswith(first) and label.endswith(f" + {torch_pretty()} · CPU")


@needs_torch
@needs_jax
def test_benchmark_puts_numpy_torch_and_jax_side_by_side(site):
    build = site({"posts/bench.md": """
        Title: Bench
        Date: 2026-05-04

        ```python exec
        def make_matmul(xp, n):
            a = xp.ones((n, n), dtype=xp.float32)
            return lambda: a @ a

        benchmark(make_matmul, params={"n": [32, 64]}, flops=lambda n: 2 * n**3,
                  backends=("numpy", "torch", "jax"), budget=0.02, min_repeats=3)
        ```
        """})
    assert build.returncode == 0, build.log
    post = build.post("bench")
    rows = [[td.text for td in tr.select("td")] for tr in post.select("table.bench tbody tr")]
    assert [r[1] for r in rows] == ["NumPy", torch_pretty(), "JAX"] * 2
    assert all(r[-1].endswith("×") for r in rows)  # speedups against the first backend
    foot = post.select_one(".bench-foot").text
    assert "PyTorch" in foot and "JAX" in foot and "block_until_ready" in foot
    (label,) = labels(build, "bench")  # the fence computed with all three
    assert "JAX" in label and torch_pretty() in label


LAZY_PLUGIN = '''
import os, time
import numpy
from execblog.engine import hookimpl
from execblog.engine.backends import ArrayBackend, BackendCandidate

def probe():
    with open(os.environ["ABACUS_LOG"], "a") as fh:
        fh.write(f"probe {os.getpid()}\\n")
    time.sleep(float(os.environ.get("ABACUS_SLEEP", "0")))
    return ArrayBackend(name="abacus", xp=numpy, device="Abacus 1", is_gpu=True,
                        pretty="Abacus")

@hookimpl
def fences_backend_candidates():
    # above CuPy's 10: auto picks it on a GPU machine too
    return [BackendCandidate(name="abacus", preference=50, installed=lambda: True, probe=probe)]
'''


def _lazy_site(tmp_path, post: str, sleep: float = 0.0):
    write_files(tmp_path / "lib", {"abacus.py": LAZY_PLUGIN})
    write_files(tmp_path / "content", {"posts/lazy.md": post})
    log = tmp_path / "probes.log"
    log.touch()
    proc = run_pelican(
        tmp_path / "content", tmp_path / "out",
        settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"), "FENCES_PLUGINS": ["abacus"]},
        env={"PYTHONPATH": str(tmp_path / "lib"), "ABACUS_LOG": str(log),
             "ABACUS_SLEEP": str(sleep)},
    )
    report = json.loads((tmp_path / "cache/report.json").read_text())
    return proc, report, log.read_text().splitlines()


def test_auto_is_resolved_at_first_use_and_its_start_up_is_not_the_fences_time(tmp_path):
    """A backend above NumPy (a stand-in for CuPy) is probed only by the session whose
    fence touches ``xp``, once; its 3 s start-up does not count against a 2 s timeout."""
    proc, report, probes = _lazy_site(tmp_path, """
        Title: Lazy
        Date: 2026-05-05

        ```python exec
        print("prose only")
        ```

        ```python exec timeout=2
        print(xp.__name__, backend.label)
        ```

        ```python exec session=other
        print("this session never touches xp")
        ```
        """, sleep=3)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (tmp_path / "out/posts/lazy/index.html").read_text()
    assert "numpy Abacus · Abacus 1" in html
    assert [f["status"] for f in report["fences"]] == ["ran"] * 3
    assert [f["backend"] for f in report["fences"]] == ["numpy", "abacus", "numpy"]
    assert report["fences"][1]["seconds"] < 2.5  # the start-up is not the fence's time
    # one probe in the session that used xp; the engine's own probe of what auto gives
    sessions = [line for line in probes if line.startswith("probe")]
    assert 1 <= len(sessions) <= 2, probes


def test_a_result_made_on_purpose_on_the_cpu_is_not_rerun_every_build(tmp_path):
    """What auto offered is recorded: a fence that computed without ``xp`` (labelled NumPy)
    on a machine whose auto offers more is cached, not run again at every build."""
    post = """
        Title: Lazy
        Date: 2026-05-05

        ```python exec
        import numpy as np
        print(np.ones(3).sum())
        ```
        """
    proc, report, _ = _lazy_site(tmp_path, post)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [f["status"] for f in report["fences"]] == ["ran"]
    proc, report, _ = _lazy_site(tmp_path, post)
    assert [f["status"] for f in report["fences"]] == ["cached"], proc.stdout


def test_preload_names_only_known_backends(site):
    build = site({"posts/a.md": "Title: A\nDate: 2026-05-06\n\nText.\n"},
                 settings={"FENCES_PRELOAD": ["tensorflow"]})
    assert build.returncode != 0
    assert "FENCES_PRELOAD" in build.log and "tensorflow" in build.log


@needs_torch
def test_preloaded_torch_keeps_sessions_forkable(site):
    """PyTorch warmed in the fork server: a torch fence runs, and the figures of a later
    fence are still drawn in forked copies (the session stays safe to fork on the CPU)."""
    build = site({"posts/warm.md": """
        Title: Warm
        Date: 2026-05-07

        ```python exec
        import sys
        print("torch" in sys.modules)
        ```
        """}, settings={"FENCES_PRELOAD": ["torch"]})
    assert build.returncode == 0, build.log
    assert build.post("warm").select_one("pre.fence-stdout").text == "True\n"
