"""Micro-probes of the GPU paths, run by run.sh from the checkout's root (plugins/ on sys.path).

Prints one line per result, ``PROBE <name> <value>``, and never raises: each probe is
guarded, and the ones that must start from a fresh interpreter (CuPy merely imported; PyTorch)
run in a child process with a time limit.
"""

import functools
import json
import os
import subprocess
import sys
import time
import warnings

PLUGINS = os.path.join(os.getcwd(), "plugins")
if PLUGINS not in sys.path:
    sys.path.insert(0, PLUGINS)
CHILD_TIMEOUT = 60


def out(name, value):
    print(f"PROBE {name} {value}", flush=True)


def guard(name):
    def wrap(fn):
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - a probe never stops the others
            out(name, f"EXC {type(exc).__name__}: {str(exc)[:300]}")
        return fn
    return wrap


def child(name, code, env=None, args=()):
    """Run ``code`` in a fresh interpreter; it prints JSON on its last line: a dict, whose
    items are printed as PROBE name.key value."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (PLUGINS, os.environ.get("PYTHONPATH", "")) if p), **(env or {})}
    try:
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        out(name, f"TIMEOUT after {CHILD_TIMEOUT}s")
        return None
    lines = proc.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        out(name, f"rc={proc.returncode} {(proc.stderr or proc.stdout).strip()[-400:]!r}")
        return None
    for key, value in result.items():
        out(f"{name}.{key}", json.dumps(value) if not isinstance(value, str) else repr(value))
    return result


# 0. `import cupy` alone must not make a session unsafe to fork (only CUDA set up does), and
# which /proc signal tells the two apart: /dev/nvidia* in maps or fds, libcuda in maps
FRESH_IMPORT = r"""
import json, os, sys, threading
from execblog.executors.local import worker

def nvidia_maps():
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
        return sorted({l.split()[-1] for l in fh if "/dev/nvidia" in l})

def nvidia_fds():
    names = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("/dev/nvidia"):
            names.append(target)
    return sorted(names)

def libcuda():
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
        return any("libcuda.so" in l for l in fh)

def state():
    r = {"unsafe_to_fork": worker.unsafe_to_fork(None), "cupy_in_modules": "cupy" in sys.modules}
    for name in ("gpu_in_use", "_cuda_loaded"):  # the engine's own test, whichever it has
        if callable(getattr(worker, name, None)):
            r[name] = getattr(worker, name)()
    return {**r, "libcuda_in_maps": libcuda(), "nvidia_in_maps": nvidia_maps(),
            "nvidia_in_fds": nvidia_fds(),
            "native_threads": len(os.listdir("/proc/self/task")),
            "python_threads": threading.active_count()}

result = {"before_import": state()}
import cupy
result["after_import"] = state()
result["device_count"] = cupy.cuda.runtime.getDeviceCount()
result["after_getDeviceCount"] = state()
cupy.arange(8).sum(); cupy.cuda.Stream.null.synchronize()
result["after_kernel"] = state()
result["verdict_import_only_fork_safe"] = result["after_import"]["unsafe_to_fork"] == ""
result["verdict_fork_blocked_after_kernel"] = result["after_kernel"]["unsafe_to_fork"] != ""
for sig in ("nvidia_in_maps", "nvidia_in_fds", "libcuda_in_maps"):
    seq = [bool(result[k][sig]) for k in ("before_import", "after_import",
                                          "after_getDeviceCount", "after_kernel")]
    result[f"signal_{sig}"] = "before,import,count,kernel=" + ",".join(map(str, seq))
print(json.dumps(result))
"""
BLAS_ONE = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


@guard("fresh_import")
def _():
    child("fresh_import", FRESH_IMPORT, BLAS_ONE)  # as the fork server's sessions run


# 1. host-side device node check (langkit.cuda.gpu_node) and what the driver probe says
@guard("gpu_node")
def _():
    from execblog.kinds.languages import cuda_device
    from execblog.kinds.languages.cuda import gpu_node
    out("gpu_node", repr(gpu_node()))
    out("dev_nodes", sorted(p for p in os.listdir("/dev") if p.startswith("nvidia")))
    out("cuda_device.check", json.dumps(cuda_device.check()))


# 2. cost of binding backend=auto (counted against the first fence's timeout)
@guard("probe")
def _():
    t0 = time.perf_counter()
    from execblog.backends.cupy_backend import _probe
    b = _probe()
    out("probe_seconds", round(time.perf_counter() - t0, 3))
    out("probe_backend", json.dumps(b.describe()))
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    out("props_name_type", type(props["name"]).__name__)
    out("compute_capability", cupy.cuda.Device().compute_capability)
    out("native_threads_after_cuda", len(os.listdir("/proc/self/task")))


# 3. unsafe_to_fork after the probe (CUDA is set up here: it must say why not)
@guard("unsafe_to_fork")
def _():
    from execblog.executors.local.worker import unsafe_to_fork
    out("unsafe_to_fork", repr(unsafe_to_fork(None)))


# 4. CudaEvents: a lambda, a functools.partial, a callable object
@guard("cuda_events")
def _():
    import cupy
    from execblog.backends.cupy_backend import CudaEvents
    a = cupy.ones(1_000_000, dtype=cupy.float32)
    t = CudaEvents()(lambda: a.sum(), budget=0.05, warmup=2, min_repeats=5)
    median = sorted(t.samples)[len(t.samples) // 2]
    out("cuda_events_lambda", f"n={len(t.samples)} median={median:.3e}")

    class Obj:  # a callable object without __name__
        def __call__(self):
            return a.sum()

    for label, fn in (("partial", functools.partial(cupy.sum, a)), ("object", Obj())):
        try:
            CudaEvents()(fn, budget=0.02, warmup=1, min_repeats=3)
            out(f"cuda_events_{label}", "ok")
        except Exception as exc:
            out(f"cuda_events_{label}", f"EXC {type(exc).__name__}: {exc}")


# 5. os.fork() from __main__ code after CUDA init: DeprecationWarning (Python 3.12)
@guard("fork_warning")
def _():
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    out("fork_warning", [str(w.message)[:80] for w in got
                         if issubclass(w.category, DeprecationWarning)])
    try:
        from execblog.executors.local.forking import fork  # the engine's fork: no warning
    except ImportError:
        return
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        pid = fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    out("fork_warning_engine_fork", [str(w.message)[:80] for w in got
                                     if issubclass(w.category, DeprecationWarning)])


# 6. export: a cuda library takes a CuPy array (needs nvcc)
@guard("export")
def _():
    import shutil
    import tempfile
    nvcc = shutil.which("nvcc")
    out("nvcc", nvcc)
    if not nvcc:
        return
    import cupy
    from execblog.kinds.languages import export
    src = ('__global__ void k(float *a, int n, float s){int i=blockIdx.x*blockDim.x+threadIdx.x;'
           'if(i<n)a[i]*=s;}\nextern "C" void scale(float *a, int n, float s){'
           'k<<<(n+255)/256,256>>>(a,n,s);cudaDeviceSynchronize();}\n')
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "s.cu"), "w") as fh:
        fh.write(src)
    t = time.perf_counter()
    p = subprocess.run([nvcc, "-O2", "-std=c++20", "-arch=native", "-shared", "-Xcompiler",
                        "-fPIC", "s.cu", "-o", "s.so"], cwd=d, capture_output=True, text=True,
                       timeout=120)
    out("nvcc_rc", f"{p.returncode} {round(time.perf_counter() - t, 1)}s "
                   f"{p.stderr.strip()[-300:]!r}")
    if p.returncode != 0:
        return
    ns = {}
    export.bind(os.path.join(d, "s.so"), "scale(float*, int, float)", ns, line=1,
                device_pointers=True)
    a = cupy.ones(1000, dtype=cupy.float32)
    ns["scale"](a, a.size, 3.0)
    out("export_cupy_sum", float(a.sum()))


# 7. PyTorch, where importable: CUDA seen, a small matrix product on the GPU right
TORCH = r"""
import json, importlib.util
if importlib.util.find_spec("torch") is None:
    print(json.dumps({"importable": False})); raise SystemExit
import torch
r = {"version": torch.__version__, "cuda": torch.version.cuda,
     "is_available": torch.cuda.is_available()}
if r["is_available"]:
    r["device"] = torch.cuda.get_device_name(0)
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(256, 256, generator=g) for _ in range(2))
    c = (a.cuda() @ b.cuda()).cpu()
    torch.cuda.synchronize()
    r["matmul_max_abs_err"] = float((c - a @ b).abs().max())
    r["matmul_ok"] = bool(torch.allclose(c, a @ b, rtol=1e-3, atol=1e-3))
print(json.dumps(r))
"""


@guard("torch")
def _():
    child("torch", TORCH)


# 8. every array backend the engine ships but NumPy (cupy, torch, jax...): what its probe
# binds and what that costs from a fresh interpreter (backend=auto pays it at first use)
BACKEND = r"""
import importlib, json, sys, time
t0 = time.perf_counter()
module = importlib.import_module("execblog.backends." + sys.argv[1])
try:
    b = module._probe()
    r = {"seconds": round(time.perf_counter() - t0, 3), "describe": b.describe()}
except Exception as exc:
    r = {"seconds": round(time.perf_counter() - t0, 3),
         "unavailable": f"{type(exc).__name__}: {exc}"[:300]}
print(json.dumps(r, default=str))
"""


@guard("backends")
def _():
    folder = os.path.join(PLUGINS, "execblog", "backends")
    names = sorted(f[:-3] for f in os.listdir(folder)
                   if f.endswith("_backend.py") and f != "numpy_backend.py")
    out("backends", names)
    for name in names:
        child(f"backend.{name}", BACKEND, {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}, (name,))
