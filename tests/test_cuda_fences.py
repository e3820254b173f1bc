"""``cuda exec`` fences, with real Pelican builds.

Without a usable GPU (this is every CI machine) a cuda fence that must run fails located,
naming what is missing, and cached GPU results are kept with their GPU label. These no-GPU
tests hide a real GPU with ``CUDA_VISIBLE_DEVICES=""`` so they mean the same thing on every
machine; where hiding does not work (asked of the driver, in a child process) they skip,
and what they expect of the host's look for a GPU is computed from this machine's device
nodes, not assumed.

The tests that compile and run a fence need both a usable GPU (the NVIDIA driver answers,
asked in a child process: the test process never loads the driver) and nvcc (``NVCC`` or
``nvcc`` on PATH, as the kind finds it); elsewhere they are skipped with a reason naming
what is missing. ``EXECBLOG_REQUIRE_TOOLCHAINS`` (set on CI) does not turn these skips into
failures: CI machines have no GPU, so nvcc is no toolchain they must have. No test pretends
to have a GPU.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import Build, cupy_usable, run_pelican, write_files
from execblog.engine.cache import Cache
from execblog.engine.model import STREAM, FenceResult, Output
from execblog.kinds.languages import cuda_device
from execblog.kinds.languages.cuda import NVCC, gpu_node

NO_GPU = {"CUDA_VISIBLE_DEVICES": ""}  # hides a GPU where there is one; a no-op elsewhere

# why the worker finds no GPU: no driver (CI, laptops), or a driver that sees none
NO_GPU_REASON = (r"cuda: no usable GPU here \((libcuda\.so\.1 not found: no NVIDIA driver"
                 r"|cuInit failed: CUDA_ERROR_\w+|the NVIDIA driver sees no CUDA device)\)")
WARNING = "cuda fences cannot run on this machine:"

POST = """
    Title: Kernels
    Date: 2026-05-04

    ```python exec
    print("python still runs")
    ```

    ```cuda exec
    #include <cstdio>
    int main() { std::printf("hello from the host\\n"); }
    ```

    ```cu exec session=other
    int main() { return 0; }
    ```
    """


def _line(text: str, opener: str, nth: int = 0) -> int:
    """1-based line of the nth line starting with ``opener`` in the written post."""
    lines = [i for i, line in enumerate(text.splitlines(), 1) if line.startswith(opener)]
    return lines[nth]


def _post_text(post: str) -> str:
    return textwrap.dedent(post).lstrip("\n")


def _build(tmp_path: Path, files: dict[str, str] | None = None, *,
           env: dict[str, str] | None = None, settings: dict | None = None) -> Build:
    content, out, cache = tmp_path / "content", tmp_path / "output", tmp_path / "cache"
    write_files(content, files or {})
    merged = {"FENCES_CACHE_PATH": str(cache), **(settings or {})}
    proc = run_pelican(content, out, settings=merged, env=env)
    return Build(proc.returncode, proc.stdout + proc.stderr, out, content, cache)


def _without_nvcc() -> str:
    """PATH less every folder holding nvcc (cc, python and the rest still found)."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if d and not os.path.exists(os.path.join(d, "nvcc")))


def _fences(build: Build) -> list[tuple[str, int, str]]:
    return [(f["kind"], f["line"], f["status"]) for f in build.report["fences"]]


# -- without a usable GPU -------------------------------------------------------------------
@functools.cache
def _hiding_fails() -> str | None:
    """Why ``NO_GPU`` does not hide this machine's GPU from the driver, or None (it does, or
    there is none to hide). Asked like :func:`cuda_device.check`, in a child process."""
    if not cuda_device.check().get("ok"):
        return None
    try:
        proc = subprocess.run([sys.executable, "-I", cuda_device.__file__], capture_output=True,
                              text=True, timeout=cuda_device.PROBE_TIMEOUT, check=False,
                              env={**os.environ, **NO_GPU}, stdin=subprocess.DEVNULL)
        answer = json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, IndexError, ValueError):
        return None  # no answer: no usable GPU either
    if answer.get("ok"):
        return f"CUDA_VISIBLE_DEVICES='' does not hide this machine's GPU ({answer})"
    return None


@pytest.fixture
def hidden_gpu(monkeypatch) -> str:
    """For a no-GPU test: skip where the GPU cannot be hidden; else what the host (the
    Pelican process, run with ``NO_GPU``) says of its GPU, computed from this machine's
    device nodes: "no NVIDIA GPU on this machine" where it has none, "no NVIDIA GPU visible
    (CUDA_VISIBLE_DEVICES='')" where it has one."""
    problem = _hiding_fails()
    if problem:
        pytest.skip(problem)
    for name, value in NO_GPU.items():
        monkeypatch.setenv(name, value)
    host = gpu_node()
    assert host and host.startswith("no NVIDIA GPU"), host
    return host


def test_without_a_gpu_a_cuda_fence_fails_located_and_python_still_runs(tmp_path, hidden_gpu):
    build = _build(tmp_path, {"posts/x.md": POST}, env=NO_GPU)
    text = _post_text(POST)
    first, second = _line(text, "```cuda"), _line(text, "```cu exec")
    assert build.returncode == 0, build.log
    assert _fences(build) == [("python", 4, "ran"), ("cuda", first, "failed"),
                              ("cuda", second, "failed")]
    # what this machine has: its device nodes (hidden), and nvcc as the kind finds it
    nvcc = NVCC.resolve() if NVCC.identity() else None
    error = NO_GPU_REASON + ("" if nvcc else f", and {re.escape(NVCC.missing())}")
    for line in (first, second):
        assert re.search(rf"content/posts/x\.md:{line}: error: {error}$", build.log,
                         re.MULTILINE), build.log
    assert build.log.count(WARNING) == 1, build.log
    warning = next(line for line in build.log.splitlines() if WARNING in line)
    if nvcc:
        found = (rf"{re.escape(hidden_gpu)} \(nvcc found: "
                 rf"{re.escape(os.path.realpath(nvcc[0]))}, release [\d.]+\)")
    else:
        found = rf"{re.escape(hidden_gpu)}, and {re.escape(NVCC.missing())}"
    assert re.search(rf"{WARNING} {found} \(cached results are kept and shown\)$", warning), \
        warning
    if nvcc:
        assert "nvcc not found" not in build.log
    page = build.post("kernels")
    assert page.select_one("div.fence-python pre.fence-stdout").text == "python still runs\n"
    assert len(page.select("div.fence-cuda.fence-failed")) == 2
    assert "no usable GPU here" in page.select("div.fence-cuda")[0].text


def test_without_nvcc_and_a_gpu_the_error_names_both(tmp_path, hidden_gpu):
    build = _build(tmp_path, {"posts/x.md": POST},
                   env={**NO_GPU, "PATH": _without_nvcc(), "NVCC": ""})
    first = _line(_post_text(POST), "```cuda")
    assert build.returncode == 0, build.log
    assert [f[2] for f in _fences(build)] == ["ran", "failed", "failed"]
    missing = "nvcc not found on PATH (install the CUDA toolkit, or set NVCC)"
    assert re.search(rf"content/posts/x\.md:{first}: error: {NO_GPU_REASON}, and "
                     rf"{re.escape(missing)}$", build.log, re.MULTILINE), build.log
    assert build.log.count(WARNING) == 1, build.log
    assert re.search(rf"{WARNING} {re.escape(hidden_gpu)}, and {re.escape(missing)}", build.log)


GPU_RESULT = FenceResult(
    status="ran", outputs=[Output(STREAM, "from the GPU\n", {"name": "stdout"})], seconds=0.5,
    backend={"name": "cuda", "label": "CUDA · NVIDIA H200", "device": "NVIDIA H200",
             "gpu": True, "versions": {"nvcc": "13.0", "CUDA driver": "13.0"},
             "toolchain": "/usr/local/cuda-13.0/bin/nvcc Cuda compilation tools, "
                          "release 13.0, V13.0.88"},
)

CACHED_POST = """
    Title: Cached
    Date: 2026-05-05

    ```cuda exec
    #include <cstdio>
    int main() { std::printf("from the GPU\\n"); }
    ```

    ```python exec
    print("python still runs")
    ```
    """


def test_a_cached_gpu_result_is_kept_and_labelled_on_a_machine_without_a_gpu(tmp_path,
                                                                             hidden_gpu):
    first = _build(tmp_path, {"posts/cached.md": CACHED_POST}, env=NO_GPU)
    assert [f[2] for f in _fences(first)] == ["failed", "ran"], first.log
    key = first.report["fences"][0]["key"]
    # stands for a result made on a GPU machine and committed with the cache folder
    Cache(first.cache).put(key, "cuda", GPU_RESULT)

    for settings in ({}, {"FENCES_MODE": "frozen"}):
        build = _build(tmp_path, env=NO_GPU, settings=settings)
        assert build.returncode == 0, build.log
        assert [f[2] for f in _fences(build)] == ["cached", "cached"], build.log
        assert "error:" not in build.log, build.log
        fence = build.post("cached").select_one("div.fence-cuda")
        assert fence.select_one("pre.fence-stdout").text == "from the GPU\n"
        label = fence.select_one("span.fence-backend")
        assert label.text == "CUDA · NVIDIA H200" and label["data-backend"] == "cuda"
        assert "CUDA driver 13.0" in label["title"]
        # the machine is told once why nothing new could run (not in frozen mode: it runs
        # nothing anyway)
        assert build.log.count(WARNING) == (0 if settings else 1), build.log


# -- with a usable GPU and nvcc --------------------------------------------------------------
GPU = cuda_device.check()


def _nvcc_problem() -> str | None:
    """Why the cuda kind would find no nvcc here (``NVCC``, else ``nvcc`` on PATH, answering
    ``--version``), or None."""
    if NVCC.resolve() is None:
        return NVCC.missing()
    if NVCC.identity() is None:
        return f"{NVCC.resolve()[0]} --version does not answer"
    return None


_MISSING = [problem for problem in (
    None if GPU.get("ok") else f"no usable GPU here ({GPU.get('reason')})",
    _nvcc_problem(),
) if problem]
# Never a failure, EXECBLOG_REQUIRE_TOOLCHAINS or not: CI has no GPU (see the docstring).
needs_gpu_and_nvcc = pytest.mark.skipif(bool(_MISSING), reason="needs a usable GPU and nvcc: "
                                                      + "; ".join(_MISSING))


KERNEL_POST = """
    Title: Fill
    Date: 2026-05-06

    ```cuda exec
    #include <cstdio>
    __global__ void fill(int *a, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) a[i] = i;
    }
    int main() {
        const int n = 1000;
        int *a = nullptr;
        if (cudaMallocManaged(&a, n * sizeof(int)) != cudaSuccess) return 1;
        fill<<<(n + 255) / 256, 256>>>(a, n);
        if (cudaDeviceSynchronize() != cudaSuccess) return 2;
        long sum = 0;
        for (int i = 0; i < n; ++i) sum += a[i];
        std::printf("checksum %ld\\n", sum);
        cudaFree(a);
    }
    ```

    ```cuda exec session=broken
    int main() {
        undeclared_y = 1;
    }
    ```
    """


@needs_gpu_and_nvcc
def test_a_kernel_runs_on_the_gpu_and_the_label_names_the_device(tmp_path):
    build = _build(tmp_path, {"posts/fill.md": KERNEL_POST})
    text = _post_text(KERNEL_POST)
    broken = _line(text, "    undeclared_y")
    assert build.returncode == 0, build.log
    assert [f[2] for f in _fences(build)] == ["ran", "failed"], build.log
    fences = build.post("fill").select("div.fence-cuda")
    assert fences[0].select_one("pre.fence-stdout").text == "checksum 499500\n"
    label = fences[0].select_one("span.fence-backend")
    assert label.text == f"CUDA · {GPU['device']}" and label["data-backend"] == "cuda"
    assert f"CUDA driver {GPU['driver']}" in label["title"]
    assert (f'content/posts/fill.md:{broken}: error: identifier "undeclared_y" is undefined'
            in build.log), build.log
    assert build.report["fences"][1]["line"] == broken
    assert WARNING not in build.log

    again = _build(tmp_path)  # warm: nothing compiles, the GPU result is kept
    assert [f[2] for f in _fences(again)] == ["cached", "failed"], again.log


EXPORT_POST = """
    Title: Export
    Date: 2026-05-07

    ```cuda exec export="scale(float*, int, float)"
    __global__ void scale_kernel(float *a, int n, float k) {
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < n) a[i] *= k;
    }
    extern "C" void scale(float *a, int n, float k) {
        scale_kernel<<<(n + 255) / 256, 256>>>(a, n, k);
        cudaDeviceSynchronize();
    }
    ```

    ```python exec backend=cupy
    import cupy
    a = cupy.arange(1000, dtype=cupy.float32)
    scale(a, a.size, 3.0)
    print(float(a.sum()), float(a[999]))
    ```

    ```python exec
    import numpy as np
    try:
        scale(np.ones(4, dtype=np.float32), 4, 2.0)
    except TypeError as exc:
        print("refused:", exc)
    try:
        import torch
        usable = torch.cuda.is_available()
    except ImportError:
        usable = False
    if usable:
        t = torch.ones(8, device="cuda")
        scale(t, t.numel(), 2.0)
        print("torch:", float(t.sum()))
    else:
        print("torch: not usable here")
    ```
    """


@needs_gpu_and_nvcc
def test_an_exported_function_takes_a_cupy_array(tmp_path):
    if not cupy_usable():
        pytest.skip("CuPy is not usable here (not installed, or it cannot run a kernel)")
    build = _build(tmp_path, {"posts/export.md": EXPORT_POST})
    assert build.returncode == 0, build.log
    assert [f[2] for f in _fences(build)] == ["ran", "ran", "ran"], build.log
    fences = build.post("export").select("div.fence-python")
    # 3 * (0 + 1 + ... + 999), and the last element tripled: the kernel ran on CuPy's memory
    assert fences[0].select_one("pre.fence-stdout").text == "1498500.0 2997.0\n"
    printed = fences[1].select_one("pre.fence-stdout").text.splitlines()
    # a NumPy array (host memory) is refused, not passed to the kernel
    assert printed[0] == (
        "refused: scale() argument 1 (float*): expected a writeable GPU array of float32, got "
        "numpy.ndarray of float32 (host memory: a cuda export's pointer arguments take GPU "
        "arrays, objects with __cuda_array_interface__ such as CuPy arrays or torch CUDA "
        "tensors; pass cupy.asarray(a))"), printed
    assert printed[1] in ("torch: not usable here", "torch: 16.0"), printed  # torch's too


def test_a_cluster_sends_cuda_sessions_to_gpu_workers_only_when_it_has_some():
    from execblog.engine.model import Fence
    from execblog.executors.dask_executor import DaskExecutor

    executor = DaskExecutor("tcp://127.0.0.1:1", [], 60.0)
    kinds = executor._gpu_kinds()
    assert kinds["cuda"] is True and kinds["cpp"] is False and kinds["python"] is False

    def fence(kind: str) -> Fence:
        return Fence(path="/x/posts/a.md", source="posts/a.md", line=1, body_line=2,
                     kind=kind, code="", exec_code="", options={}, index=0)

    executor._gpu_workers = lambda: True  # a cluster with GPU workers: the answer we test
    assert executor._needs_gpu([fence("python"), fence("cuda")])
    assert not executor._needs_gpu([fence("cpp")])
    executor._gpu_workers = lambda: False  # none: run anywhere, fail located there
    assert not executor._needs_gpu([fence("cuda")])
