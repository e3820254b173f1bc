"""Pure logic of backends: lazy binding, combined labels, value walking, GPU detection."""

from __future__ import annotations

import os
import types

import numpy
import pytest
from execblog.engine.backends import (
    ArrayBackend,
    BackendCandidate,
    BackendResolver,
    LazyBackend,
    combine,
    shallow_values,
)
from execblog.executors.local import forking


def counting_resolver(calls: list[str]) -> BackendResolver:
    def probe(name: str, gpu: bool) -> ArrayBackend:
        calls.append(name)
        return ArrayBackend(name=name, xp=numpy, device="Dev", is_gpu=gpu, pretty=name.title())

    return BackendResolver([
        BackendCandidate(name="numpy", preference=0, installed=lambda: True,
                         probe=lambda: probe("numpy", False)),
        BackendCandidate(name="fast", preference=5, installed=lambda: True,
                         probe=lambda: probe("fast", True)),
    ])


def test_auto_is_resolved_at_first_attribute_only():
    calls: list[str] = []
    starts: list[str] = []

    class Starting:
        def __enter__(self):
            starts.append("enter")

        def __exit__(self, *exc):
            starts.append("exit")

    lazy = LazyBackend(counting_resolver(calls), "auto", Starting)
    xp = lazy.xp
    assert isinstance(xp, types.ModuleType) and calls == [] and not lazy.used
    assert lazy.to_numpy(numpy.ones(2)).sum() == 2 and calls == []  # NumPy needs no backend
    assert xp.float32 is numpy.float32  # first use: resolved, in a "starting" block
    assert calls == ["fast"] and starts == ["enter", "exit"] and lazy.used
    assert lazy.label == "Fast · Dev" and xp.__name__ == "numpy"
    xp.ones(1)
    assert calls == ["fast"] and starts == ["enter", "exit"]  # once


def test_touched_lists_what_a_fence_was_handed():
    resolver = counting_resolver([])
    lazy = LazyBackend(resolver, "auto")
    resolver.touched.clear()
    assert resolver.touched == []
    lazy.xp.ones(1)
    resolver.get("numpy")
    assert [b.name for b in resolver.touched] == ["fast", "numpy"]
    assert resolver.fallback().name == "numpy"


def test_labels_say_where_for_frameworks_that_run_on_both():
    cpu = ArrayBackend(name="torch", xp=numpy, device="Xeon", pretty="PyTorch 2.5", where="CPU")
    gpu = ArrayBackend(name="torch", xp=numpy, device="NVIDIA H200", is_gpu=True,
                       pretty="PyTorch 2.5")
    plain = ArrayBackend(name="numpy", xp=numpy, device="Xeon", pretty="NumPy")
    assert [cpu.label, gpu.label, plain.label] == [
        "PyTorch 2.5 · CPU", "PyTorch 2.5 · NVIDIA H200", "NumPy"]
    both = combine([plain.describe(), gpu.describe(), gpu.describe()])
    assert both["label"] == "NumPy + PyTorch 2.5 · NVIDIA H200"
    assert both["name"] == "numpy" and both["gpu"] is True
    assert [f["name"] for f in both["frameworks"]] == ["numpy", "torch"]
    assert combine([cpu.describe()]) == cpu.describe()
    assert combine([]) is None


def test_shallow_values_look_one_level_into_containers():
    a, b, c = object(), object(), object()
    found = list(shallow_values([a, [b], {"k": c}, ([a],)]))
    assert b in found and c in found
    assert [a] in found and sum(x is a for x in found) == 1  # not two levels down


def test_no_gpu_is_in_use_in_the_test_process():
    """The test process never initialises CUDA: no NVIDIA device file is open or mapped."""
    assert forking.gpu_in_use() is False


def test_an_open_nvidia_device_file_counts_as_a_gpu_in_use():
    nodes = [p for p in ("/dev/nvidiactl", "/dev/nvidia0") if os.path.exists(p)]
    if not nodes:
        pytest.skip("no NVIDIA device file on this machine")
    try:
        fd = os.open(nodes[0], os.O_RDONLY)
    except OSError as exc:
        pytest.skip(f"cannot open {nodes[0]}: {exc}")
    try:
        assert forking.gpu_in_use() is True
    finally:
        os.close(fd)


def test_fork_returns_in_both_processes():
    pid = forking.fork()
    if pid == 0:
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 7
