"""The GPU check's CPU side (`invoke gpucheck`, .ci/gpucheck/): what it would install there,
how it lays out .cache/gpucheck/, and that run.sh is valid bash naming real test files.
Nothing is downloaded: pip is replaced where prep would call it."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import textwrap
import tomllib

import pytest
from conftest import ROOT

from tools import gpucheck

CI = ROOT / ".ci" / "gpucheck"


def load_report():
    spec = importlib.util.spec_from_file_location("gpucheck_report", CI / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_are_pyproject_dependencies_and_test_tools_less_the_gpu_stack():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = gpucheck.requirements(ROOT / "pyproject.toml")
    names = [gpucheck.requirement_name(r) for r in reqs]
    runtime = [r for r in project["dependencies"]
               if gpucheck.requirement_name(r) not in ("numpy", "matplotlib")]
    assert reqs[:len(runtime)] == runtime  # as pyproject writes them, extras and bounds kept
    assert "pelican[markdown]>=4.12" in reqs and "pagefind[bin]>=1.5.2" in reqs
    frameworks = [gpucheck.requirement_name(r) for extra in gpucheck.FRAMEWORK_EXTRAS
                  for r in project.get("optional-dependencies", {}).get(extra, [])
                  if not gpucheck.on_gpu_machine(gpucheck.requirement_name(r))]
    assert names[len(runtime):] == ["pytest", "pytest-xdist", "feedparser", *frameworks]
    assert not {"numpy", "matplotlib", "ruff", "playwright", "distributed", "torch", "jax",
                "cupy-cuda12x", "cupy-cuda13x"} & set(names)
    assert len(names) == len(set(names))


def test_requirements_leave_out_what_the_gpu_machine_has(tmp_path):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "x"
        dependencies = ["NumPy>=1.26", "matplotlib", "cupy-cuda13x>=13", "torch>=2",
                        "jax[cuda13]>=0.4", "Pelican[markdown]>=4.12"]
        [project.optional-dependencies]
        test = ["pytest>=8", "Pytest_XDist>=3.5", "feedparser>=6", "ruff", "torch==2.13.0"]
        torch = ["torch>=2.4", "array-api-compat>=1.9"]
        jax = ["jax>=0.4.30", "pelican"]
        cluster = ["distributed"]
    """))
    assert gpucheck.requirements(tmp_path / "pyproject.toml") == [
        "Pelican[markdown]>=4.12", "pytest>=8", "Pytest_XDist>=3.5", "feedparser>=6",
        "array-api-compat>=1.9"]
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = []\n'
        '[project.optional-dependencies]\ntest = ["pytest"]\n')
    with pytest.raises(ValueError, match="pytest-xdist, feedparser"):
        gpucheck.requirements(tmp_path / "pyproject.toml")


@pytest.mark.parametrize(("name", "there"), [
    ("numpy", True), ("matplotlib", True), ("cupy-cuda13x", True), ("cupy_cuda12x", True),
    ("torch", True), ("jaxlib", True), ("jax-cuda13-plugin", True), ("triton", True),
    ("nvidia-cuda-nvcc", True), ("pelican", False), ("pytest-xdist", False),
    ("numpydoc", False), ("markdown", False)])
def test_what_the_gpu_machine_has(name, there):
    assert gpucheck.on_gpu_machine(name) is there


def test_wheels_of_the_gpu_stack_are_dropped_after_download(tmp_path, monkeypatch):
    made = ["numpy-2.3.0-cp312-cp312-manylinux_2_28_x86_64.whl",
            "pytest_xdist-3.8.0-py3-none-any.whl", "Unidecode-1.4.0-py3-none-any.whl",
            "nvidia_cuda_runtime-13.0.96-py3-none-manylinux_2_27_x86_64.whl"]
    calls = []

    def fake_download(python, dest, args):
        calls.append(args)
        for name in made:
            (dest / name).write_bytes(b"")

    monkeypatch.setattr(gpucheck, "pip_download", fake_download)
    req = tmp_path / "req.txt"
    req.write_text("pytest-xdist\n")
    dropped = gpucheck.download_wheels(req, tmp_path / "w")
    assert calls == [["-r", str(req)]]
    assert dropped == [made[0], made[3]]
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == sorted([made[1], made[2]])
    assert gpucheck.wheel_name(made[1]) == "pytest-xdist"


def test_the_egg_info_must_list_the_declared_entry_points(tmp_path):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "x"
        [project.entry-points.pelican_fences]
        "execblog.kinds.languages.cuda" = "execblog.kinds.languages.cuda"
        "notebooks" = "notebooks"
    """))
    assert not gpucheck.egg_info_current(tmp_path)
    eggs = tmp_path / gpucheck.EGG_INFO
    eggs.mkdir(parents=True)
    (eggs / "entry_points.txt").write_text("[pelican_fences]\nnotebooks = notebooks\n")
    assert not gpucheck.egg_info_current(tmp_path)  # stale: cuda is missing
    (eggs / "entry_points.txt").write_text(
        "[pelican_fences]\nexecblog.kinds.languages.cuda = execblog.kinds.languages.cuda\n"
        "notebooks = notebooks\n")
    assert gpucheck.egg_info_current(tmp_path)
    assert gpucheck.ensure_egg_info(tmp_path) == f"{gpucheck.EGG_INFO} is current"


def test_prep_lays_out_the_folder_and_says_what_to_carry(tmp_path, monkeypatch, capsys):
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "gpucheck").symlink_to(CI)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    eggs = tmp_path / gpucheck.EGG_INFO
    eggs.mkdir(parents=True)
    (eggs / "entry_points.txt").write_text(
        (ROOT / gpucheck.EGG_INFO / "entry_points.txt").read_text()
        if (ROOT / gpucheck.EGG_INFO / "entry_points.txt").is_file() else "")
    monkeypatch.setattr(gpucheck, "ensure_egg_info", lambda root, python: "egg-info ok")
    monkeypatch.setattr(gpucheck, "tree_size", lambda root: 2 * 2**20)
    monkeypatch.setattr(gpucheck, "download_wheels", lambda req, dest, python: (
        (dest / "pelican-4.12.0-py3-none-any.whl").write_bytes(b"x" * 1000), [])[1])
    old = tmp_path / gpucheck.CACHE / "nvcc.tar.xz"  # left by an earlier --nvcc
    old.parent.mkdir(parents=True)
    old.write_bytes(b"")
    total = gpucheck.prep(tmp_path)
    cache = tmp_path / gpucheck.CACHE
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [*gpucheck.SCRIPTS, "req.txt", "wheels"])
    assert (cache / "req.txt").read_text().splitlines() == gpucheck.requirements(
        tmp_path / "pyproject.toml")
    assert total == gpucheck.size(cache) + gpucheck.size(eggs) + 2 * 2**20 < gpucheck.LIMIT_BYTES
    printed = capsys.readouterr().out
    assert "carry: .cache/gpucheck plugins/execblog.egg-info" in printed
    assert "bash .cache/gpucheck/run.sh" in printed
    assert re.search(r"size: .* MiB carried; with the checkout \(2\.0 MiB\)", printed)


def test_run_sh_and_prep_sh_are_valid_bash():
    for script in ("run.sh", "prep.sh"):
        proc = subprocess.run(["bash", "-n", str(CI / script)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_run_sh_names_only_test_files_that_exist_or_globs():
    text = (CI / "run.sh").read_text()
    named = re.findall(r"\btests/[\w*]+\.py\b", text)
    assert len(named) >= 8
    for name in named:
        if "*" in name:
            assert name.startswith("tests/test_")
        else:
            assert (ROOT / name).is_file(), f"run.sh names {name}, which does not exist"
    assert "-p no:benchmark" in text and "-p no:cacheprovider" in text and "-rfEs" in text


def test_the_python_scripts_compile():
    for script in ("probes.py", "report.py"):
        compile((CI / script).read_text(), str(CI / script), "exec")


def test_run_sh_with_no_stage_still_writes_the_summary(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "OUT": str(tmp_path / "out"),
           "GPUCHECK_WORK": str(tmp_path / "work"), "GPUCHECK_DIR": str(CI),
           "GPUCHECK_STAGES": "none", "PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(CI / "run.sh")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = (tmp_path / "out" / "summary.txt").read_text()
    assert "SUMMARY" in summary and "bench      not measured" in summary
    assert "SUMMARY" in (tmp_path / "out" / "run.log").read_text()


def test_the_summary_counts_tests_and_fences(tmp_path):
    report = load_report()
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    out.mkdir()
    (work / "stages.txt").write_text("tests 1 95 210\nbench 124 120 120\n")
    (work / "probes.txt").write_text("noise\nPROBE gpu_node None\n")
    (out / "junit.xml").write_text(textwrap.dedent("""\
        <?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
        <testcase classname="tests.test_gpu" name="test_a" time="1"/>
        <testcase classname="tests.test_gpu.TestX" name="test_b[1]" time="1">
          <failure message="assert 1 == 2">trace</failure></testcase>
        <testcase classname="tests.test_export" name="test_c" time="1">
          <skipped type="pytest.skip" message="no GPU here">x</skipped></testcase>
        <testcase classname="tests.test_export" name="test_d" time="1">
          <error message="fixture failed">x</error></testcase>
        </testsuite></testsuites>"""))
    (out / "report.json").write_text(json.dumps({
        "fences": [{"source": "posts/a.md", "line": 3, "kind": "python", "status": "ran",
                    "seconds": 2.0, "backend": "cupy"},
                   {"source": "posts/b.md", "line": 9, "kind": "bash", "status": "failed",
                    "seconds": 0.1, "backend": None, "message": "exit 1"}],
        "summary": {"total": 2, "ran": 1, "failed": 1, "cached": 0, "seconds": 4.5,
                    "slowest": [{"location": "posts/a.md:3", "seconds": 2.0}]}}))
    text = "\n".join(report.summary(work, out))
    assert "tests 1 passed, 1 failed, 1 errors, 1 skipped" in text.replace("      ", " ")
    assert "FAILURE tests/test_gpu.py::TestX::test_b[1]: assert 1 == 2" in text
    assert "ERROR tests/test_export.py::test_d: fixture failed" in text
    assert "skipped x1: no GPU here" in text
    assert "by backend: cupy 1, bash 1" in text and "posts/a.md:3 2.00s" in text
    assert "FAILED posts/b.md:9 (None): exit 1" in text
    assert "tests rc=1 95s, bench TIMEOUT 120s" in text
    assert "  gpu_node None" in text and "noise" not in text
    assert "bench      not measured" in text
