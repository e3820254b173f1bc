"""The CuPy path, for real, where a usable NVIDIA GPU exists; skipped with the reason elsewhere."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _gpu_reason() -> str | None:
    """Probe in a child process: the test process itself never initialises CUDA."""
    probe = ("import sys\ntry:\n    import cupy\nexcept Exception as e:\n"
             "    sys.exit(f'CuPy is not installed ({e.__class__.__name__})')\n"
             "if not cupy.is_available():\n    sys.exit('CuPy is installed but no usable GPU')\n"
             "int(cupy.arange(3).sum())\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["no GPU"])[-1]


REASON = _gpu_reason()
needs_gpu = pytest.mark.skipif(REASON is not None, reason=f"no usable GPU here: {REASON}")


@needs_gpu
def test_auto_and_cupy_fences_run_on_the_gpu_and_say_so(site):
    build = site({"posts/gpu.md": """
        Title: GPU
        Date: 2026-05-01

        ```python exec
        a = xp.arange(10)
        print(type(a).__module__.split(".")[0], int(a.sum()))
        ```

        ```python exec backend=cupy
        float(xp.linalg.norm(xp.ones(4)))
        ```

        ```python exec backend=numpy
        type(xp.ones(1)).__module__
        ```
        """})
    assert build.returncode == 0, build.log
    fences = build.post("gpu").select("div.fence")
    assert fences[0].select_one("pre.fence-stdout").text == "cupy 45\n"
    assert fences[1].select_one("pre.fence-text").text == "2.0"
    labels = [f.select_one("span.fence-backend") for f in fences]
    assert labels[0].text.startswith("CuPy · ") and labels[0]["data-backend"] == "cupy"
    assert labels[2].text == "NumPy"  # a NumPy result is never labelled as a GPU one
    assert [f["backend"] for f in build.report["fences"]] == ["cupy", "cupy", "numpy"]


def test_cupy_request_without_gpu_is_a_located_error(site):
    if REASON is None:
        pytest.skip("a GPU is present: backend=cupy is not an error here")
    build = site({"posts/nogpu.md": "Title: NoGPU\nDate: 2026-05-02\n\n"
                  "```python exec backend=cupy\nxp.ones(3)\n```\n"})
    assert build.returncode == 0
    assert "posts/nogpu.md" in build.log and "backend=cupy" in build.log
    block = build.post("nogpu").select_one("div.fence-error")
    assert "backend=cupy" in block.text
