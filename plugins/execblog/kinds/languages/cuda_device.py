"""Is a CUDA GPU usable here? Asked in a short child process, never in the caller's.

``python cuda_device.py`` (or ``python -m langkit.cuda_device``) loads the driver library
``libcuda.so.1`` through ctypes, calls ``cuInit(0)``, ``cuDeviceGetCount``,
``cuDeviceGetName`` and ``cuDriverGetVersion`` and prints one JSON object:
``{"ok": true, "device": "NVIDIA H200", "count": 1, "driver": "13.0"}`` or
``{"ok": false, "reason": "cuInit failed: CUDA_ERROR_NO_DEVICE"}``.

:func:`check` runs that child once per process (a fence worker asks before compiling a
``cuda`` fence) so the worker itself never loads the driver; tests use it too, to know
whether a GPU is usable without initialising CUDA in the test process. The script part
uses the standard library only: it runs by path, with no package on ``sys.path``.
"""

from __future__ import annotations

import ctypes
import functools
import json
import subprocess
import sys
from typing import Any

PROBE_TIMEOUT = 60.0  # seconds; a driver that hangs is no usable GPU


def _error_name(lib: Any, code: int) -> str:
    name = ctypes.c_char_p()
    try:
        if lib.cuGetErrorName(code, ctypes.byref(name)) == 0 and name.value:
            return name.value.decode()
    except AttributeError:
        pass
    return f"CUDA error {code}"


def probe() -> dict[str, Any]:
    """Ask the driver, in this process (so: only in the child; see :func:`check`)."""
    try:
        lib = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return {"ok": False, "reason": "libcuda.so.1 not found: no NVIDIA driver"}

    def call(what: str, *args: Any) -> str | None:
        code = getattr(lib, what)(*args)
        return None if code == 0 else f"{what} failed: {_error_name(lib, code)}"

    count, version = ctypes.c_int(0), ctypes.c_int(0)
    device, name = ctypes.c_int(0), ctypes.create_string_buffer(256)
    problem = (call("cuInit", 0) or call("cuDeviceGetCount", ctypes.byref(count)))
    if problem:
        return {"ok": False, "reason": problem}
    if count.value < 1:
        return {"ok": False, "reason": "the NVIDIA driver sees no CUDA device"}
    problem = (call("cuDeviceGet", ctypes.byref(device), 0)
               or call("cuDeviceGetName", name, len(name), device)
               or call("cuDriverGetVersion", ctypes.byref(version)))
    if problem:
        return {"ok": False, "reason": problem}
    code = version.value
    return {"ok": True, "device": name.value.decode(errors="replace").strip(),
            "count": count.value, "driver": f"{code // 1000}.{(code % 1000) // 10}"}


@functools.cache
def check() -> dict[str, Any]:
    """:func:`probe`'s answer from a child process, once per process."""
    try:
        proc = subprocess.run([sys.executable, "-I", __file__], capture_output=True,
                              text=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"ok": False, "reason": f"the GPU probe did not answer in {PROBE_TIMEOUT:g} s"}
    except OSError as exc:
        return {"ok": False, "reason": f"cannot start the GPU probe ({exc.strerror or exc})"}
    lines = proc.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1])
    except (IndexError, ValueError):
        # a driver that crashes the process on cuInit is no usable GPU either
        tail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return {"ok": False, "reason": f"the GPU probe failed ({tail})"}
    return answer if isinstance(answer, dict) else {"ok": False, "reason": "bad GPU probe"}


if __name__ == "__main__":
    print(json.dumps(probe()), flush=True)
