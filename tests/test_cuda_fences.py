"""``cuda exec`` fences, with real Pelican builds.

Without a usable GPU (this is every CI machine) a cuda fence that must run fails located,
naming what is missing, and cached GPU results are kept with their GPU label. The tests
that need a GPU run only where the NVIDIA driver answers (asked in a child process: the
test process never loads the driver) and are skipped with the reason elsewhere. No test
pretends to have a GPU; the no-GPU tests hide a real one with ``CUDA_VISIBLE_DEVICES=""``
so they mean the same thing on every machine.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import Build, cupy_usable, run_pelican, write_files
from fences.cache import Cache
from fences.model import STREAM, FenceResult, Output
from langkit import cuda_device
from langkit.cuda import gpu_node

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
def test_without_a_gpu_a_cuda_fence_fails_located_and_python_still_runs(tmp_path):
    build = _build(tmp_path, {"posts/x.md": POST}, env=NO_GPU)
    text = _post_text(POST)
    first, second = _line(text, "```cuda"), _line(text, "```cu exec")
    assert build.returncode == 0, build.log
    assert _fences(build) == [("python", 4, "ran"), ("cuda", first, "failed"),
                              ("cuda", second, "failed")]
    assert re.search(rf"content/posts/x\.md:{first}: error: {NO_GPU_REASON}$", build.log,
                     re.MULTILINE), build.log
    assert re.search(rf"content/posts/x\.md:{second}: error: {NO_GPU_REASON}$", build.log,
                     re.MULTILINE), build.log
    assert build.log.count(WARNING) == 1, build.log
    warning = next(line for line in build.log.splitlines() if WARNING in line)
    assert "no NVIDIA GPU" in warning and "cached results are kept" in warning
    nvcc = shutil.which("nvcc")
    if nvcc and not os.environ.get("NVCC") and gpu_node() == "no NVIDIA GPU on this machine":
        assert re.search(rf"{WARNING} no NVIDIA GPU on this machine \(nvcc found: "
                         rf"{re.escape(os.path.realpath(nvcc))}, release [\d.]+\) "
                         r"\(cached results are kept and shown\)$", warning), warning
    if nvcc:
        assert "nvcc not found" not in build.log
    page = build.post("kernels")
    assert page.select_one("div.fence-python pre.fence-stdout").text == "python still runs\n"
    assert len(page.select("div.fence-cuda.fence-failed")) == 2
    assert "no usable GPU here" in page.select("div.fence-cuda")[0].text


def test_without_nvcc_and_a_gpu_the_error_names_both(tmp_path):
    build = _build(tmp_path, {"posts/x.md": POST},
                   env={**NO_GPU, "PATH": _without_nvcc(), "NVCC": ""})
    first = _line(_post_text(POST), "```cuda")
    assert build.returncode == 0, build.log
    assert [f[2] for f in _fences(build)] == ["ran", "failed", "failed"]
    missing = "nvcc not found on PATH (install the CUDA toolkit, or set NVCC)"
    assert re.search(rf"content/posts/x\.md:{first}: error: {NO_GPU_REASON}, and "
                     rf"{re.escape(missing)}$", build.log, re.MULTILINE), build.log
    assert build.log.count(WARNING) == 1, build.log
    assert re.search(rf"{WARNING} no NVIDIA GPU [^\n]*, and {re.escape(missing)}", build.log)


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


def test_a_cached_gpu_result_is_kept_and_labelled_on_a_machine_without_a_gpu(tmp_path):
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


# -- with a usable GPU ----------------------------------------------------------------------
GPU = cuda_device.check()
needs_gpu = pytest.mark.skipif(not GPU.get("ok"),
                               reason=f"no usable GPU here: {GPU.get('reason')}")

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


@needs_gpu
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
    a = cupy.ones(1000, dtype=cupy.float32)
    scale(a, a.size, 3.0)
    print(float(a.sum()))
    ```
    """


@needs_gpu
def test_an_exported_function_takes_a_cupy_array(tmp_path):
    if not cupy_usable():
        pytest.skip("CuPy is not usable here")
    build = _build(tmp_path, {"posts/export.md": EXPORT_POST})
    assert build.returncode == 0, build.log
    assert [f[2] for f in _fences(build)] == ["ran", "ran"], build.log
    fence = build.post("export").select_one("div.fence-python")
    assert fence.select_one("pre.fence-stdout").text == "3000.0\n"


def test_a_cluster_sends_cuda_sessions_to_gpu_workers_only_when_it_has_some():
    from fences.builtin.dask_executor import DaskExecutor
    from fences.model import Fence

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
