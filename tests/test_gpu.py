"""The CuPy path, for real, where a usable NVIDIA GPU exists; skipped with the reason elsewhere."""

from __future__ import annotations

import pytest
from conftest import in_child


def _gpu_reason() -> str | None:
    """Probe in a child process: the test process itself never initialises CUDA."""
    probe = ("import sys\ntry:\n    import cupy\nexcept Exception as e:\n"
             "    sys.exit(f'CuPy is not installed ({e.__class__.__name__})')\n"
             "if not cupy.is_available():\n    sys.exit('CuPy is installed but no usable GPU')\n"
             "int(cupy.arange(3).sum())\n")
    ok, why = in_child(probe)
    return None if ok else why or "no GPU"


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


def _torch_cuda_reason() -> str | None:
    probe = ("import sys\ntry:\n    import torch\nexcept Exception as e:\n"
             "    sys.exit(f'PyTorch is not installed ({e.__class__.__name__})')\n"
             "if not torch.cuda.is_available():\n    sys.exit('PyTorch sees no CUDA device')\n")
    ok, why = in_child(probe)
    return None if ok else why or "no"


TORCH_REASON = _torch_cuda_reason()
needs_torch_cuda = pytest.mark.skipif(TORCH_REASON is not None,
                                      reason=f"no PyTorch on CUDA here: {TORCH_REASON}")


@needs_gpu
def test_auto_sets_up_nothing_until_xp_is_used(site):
    """``auto`` is resolved at its first use: a session that never computes with ``xp``
    never imports CuPy (so it can still be forked: snapshots, figures drawn side by side)."""
    build = site({"posts/lazy.md": """
        Title: Lazy
        Date: 2026-05-03

        ```python exec
        import sys
        print("cupy" in sys.modules)
        ```

        ```python exec
        import sys
        a = xp.ones(3)
        print("cupy" in sys.modules, type(a).__module__.split(".")[0])
        ```
        """})
    assert build.returncode == 0, build.log
    outs = [p.text for p in build.post("lazy").select("pre.fence-stdout")]
    assert outs == ["False\n", "True cupy\n"]
    labels = [s.text for s in build.post("lazy").select("span.fence-backend")]
    assert labels[0] == "NumPy" and labels[1].startswith("CuPy · ")


@needs_gpu
def test_a_faulting_kernel_fails_its_own_fence(site):
    """Kernels run asynchronously: the engine waits for a fence's GPU work at its end, so an
    illegal address fails the fence that launched it, not the next one."""
    build = site({"posts/fault.md": """
        Title: Fault
        Date: 2026-05-04

        ```python exec
        import cupy
        kernel = cupy.RawKernel(r'''
        extern "C" __global__ void poke(int *p) { p[1 << 28] = 1; }
        ''', "poke")
        small = cupy.zeros(1, dtype=cupy.int32)
        kernel((1,), (1,), (small,))
        print("launched")
        ```

        ```python exec
        print("after")
        ```
        """})
    assert build.returncode == 0, build.log
    assert build.statuses() == ["failed", "skipped"]
    error = build.post("fault").select_one("div.fence-error").text
    assert "cudaError" in error or "illegal" in error.lower(), error


@needs_torch_cuda
def test_torch_on_cuda_is_labelled_as_a_gpu_result(site):
    build = site({"posts/torchgpu.md": """
        Title: Torch GPU
        Date: 2026-05-05

        ```python exec
        import torch
        t = torch.ones(1000, device="cuda")
        print(int(t.sum()))
        ```

        ```python exec backend=torch
        a = xp.ones(3)
        print(a.device.type, backend.is_gpu, int(to_numpy(a).sum()))
        ```

        ```python exec
        def make_matmul(xp, n):
            a = xp.ones((n, n), dtype=xp.float32)
            return lambda: a @ a

        benchmark(make_matmul, params={"n": [256]}, backends=("numpy", "cupy", "torch"),
                  budget=0.05, min_repeats=3)
        ```
        """})
    assert build.returncode == 0, build.log
    post = build.post("torch-gpu")
    outs = [p.text for p in post.select("pre.fence-stdout")]
    assert outs == ["1000\n", "cuda True 3\n"]
    labels = [s.text for s in post.select("span.fence-backend")]
    assert labels[0].startswith("PyTorch ") and " · " in labels[0] and "CPU" not in labels[0]
    assert labels[1] == labels[0]
    foot = post.select_one(".bench-foot").text
    assert "torch.cuda.Event" in foot and "cupyx.profiler" in foot
    rows = [[td.text for td in tr.select("td")] for tr in post.select("table.bench tbody tr")]
    assert [r[1] for r in rows] == ["NumPy", "CuPy", labels[0].split(" · ")[0]]
