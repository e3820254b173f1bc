"""The GPU check's preparation (``invoke gpucheck``, ``.ci/gpucheck/prep.sh``).

The CuPy, CUDA-events and ``cuda`` fence paths need a machine with an NVIDIA GPU. The check
runs there in one go, from a copy of the checkout, with no network: this module lays out, in
the git-ignored ``.cache/gpucheck/``, what it needs besides the checkout:

- the scripts of ``.ci/gpucheck/`` (``run.sh``, ``probes.py``, ``report.py``);
- ``req.txt``, derived from ``pyproject.toml`` (``[project].dependencies``, the test tools
  of the ``test`` extra, what the ``torch`` and ``jax`` extras add), less what the GPU machine
  brings (NumPy, matplotlib, CuPy, PyTorch, JAX), and ``wheels/``: those requirements and
  their dependencies as wheels for CPython 3.12 on x86-64 Linux;
- with ``--nvcc`` only, ``nvcc.tar.xz``: a minimal CUDA 13 compiler from PyPI's nvidia wheels,
  for a GPU machine without one (about 34 MiB more).

It also makes sure ``plugins/execblog.egg-info`` (what ``pip install -e .`` writes) exists and
lists the entry points ``pyproject.toml`` declares: the GPU machine finds the language kinds
through it. Both folders travel to the GPU machine beside the checkout, which must stay under
64 MiB altogether; this module prints the sizes and the command to run there.
"""

from __future__ import annotations

import argparse
import configparser
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout (this file: tools/gpucheck.py)
SCRIPTS = ("run.sh", "probes.py", "report.py")  # .ci/gpucheck/ -> .cache/gpucheck/
CACHE = Path(".cache") / "gpucheck"
EGG_INFO = Path("plugins") / "execblog.egg-info"
LIMIT_BYTES = 64 * 1024 * 1024  # what may travel to the GPU machine: checkout + carried paths
# From the ``test`` extra: what the GPU-relevant tests need (not ruff, playwright, distributed)
TEST_TOOLS = ("pytest", "pytest-xdist", "feedparser")
# Extras of the frameworks the GPU machine has: what they add besides the framework itself
# (array-api-compat, PyTorch's array-API namespace) is installed there too
FRAMEWORK_EXTRAS = ("torch", "jax")
# The GPU machine has these (CuPy for CUDA 13, PyTorch, JAX and their nvidia-* libraries):
# never downloaded, also when another requirement pulls them in
ON_GPU_MACHINE = re.compile(r"^(numpy|matplotlib|cupy.*|torch.*|jax.*|triton|nvidia-.*)$")
PYTHON_VERSION = "3.12"
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "any")
NVCC_WHEELS = ("nvidia-cuda-nvcc>=13,<14", "nvidia-cuda-runtime>=13,<14",
               "nvidia-cuda-cccl>=13,<14")
RUN_COMMAND = "bash .cache/gpucheck/run.sh"
RUN_TIMEOUT_S = 600


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them (``Pytest_XDist`` -> ``pytest-xdist``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    """The normalized distribution name of a requirement string (``pelican[markdown]>=4``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    if not match:
        raise ValueError(f"not a requirement: {spec!r}")
    return normalize(match.group(1))


def on_gpu_machine(name: str) -> bool:
    return bool(ON_GPU_MACHINE.match(normalize(name)))


def requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """What the check installs there, as ``pyproject.toml`` specifies it: the runtime
    dependencies, the test tools and what the framework extras add, less what the GPU
    machine has; each name once (the first mention)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    test = {requirement_name(r): r for r in extras.get("test", [])}
    missing = [t for t in TEST_TOOLS if t not in test]
    if missing:
        raise ValueError(f"pyproject.toml's test extra lacks {', '.join(missing)}")
    wanted = [*project["dependencies"], *(test[t] for t in TEST_TOOLS),
              *(r for extra in FRAMEWORK_EXTRAS for r in extras.get(extra, []))]
    result, seen = [], set()
    for r in wanted:
        name = requirement_name(r)
        if not on_gpu_machine(name) and name not in seen:
            seen.add(name)
            result.append(r)
    return result


def wheel_name(filename: str) -> str:
    """The normalized distribution name of a wheel file."""
    return normalize(filename.split("-", 1)[0])


def declared_entry_points(pyproject: Path) -> dict[str, dict[str, str]]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return {group: dict(items) for group, items in project.get("entry-points", {}).items()}


def egg_info_current(root: Path = ROOT) -> bool:
    """Whether the egg-info exists and lists every entry point pyproject.toml declares."""
    path = root / EGG_INFO / "entry_points.txt"
    if not path.is_file():
        return False
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str  # keep the names' case
    parser.read(path, encoding="utf-8")
    for group, items in declared_entry_points(root / "pyproject.toml").items():
        if group not in parser:
            return False
        listed = {k.strip(): v.strip() for k, v in parser[group].items()}
        if any(listed.get(name) != value for name, value in items.items()):
            return False
    return True


def ensure_egg_info(root: Path = ROOT, python: str = sys.executable) -> str:
    """Make ``plugins/execblog.egg-info`` with ``pip install -e .`` unless it is current."""
    if egg_info_current(root):
        return f"{EGG_INFO} is current"
    base = [python, "-m", "pip", "install", "-q", "--no-deps", "-e", "."]
    for extra in ([], ["--no-build-isolation"]):  # the second needs no network
        if subprocess.run(base + extra, cwd=root).returncode == 0 and egg_info_current(root):
            return f"{EGG_INFO} made by pip install -e ."
    raise RuntimeError(f"pip install -e . did not make a current {EGG_INFO}")


def pip_download(python: str, dest: Path, args: list[str]) -> None:
    platforms = [a for p in PLATFORMS for a in ("--platform", p)]
    cmd = [python, "-m", "pip", "download", "-q", "--disable-pip-version-check",
           "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
           *platforms, "-d", str(dest), *args]
    proc = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
    noise = "WARNING: Location "  # a find-links/index entry of this machine's pip.conf missing
    sys.stderr.write("".join(line for line in proc.stderr.splitlines(keepends=True)
                             if not line.startswith(noise)))
    if proc.returncode != 0:
        raise RuntimeError(f"pip download failed ({proc.returncode}): {' '.join(args)}")


def download_wheels(req: Path, dest: Path, python: str = sys.executable) -> list[str]:
    """The requirements' wheels and their dependencies into ``dest``, less those of packages
    the GPU machine has; returns the names of the wheels removed for that."""
    dest.mkdir(parents=True, exist_ok=True)
    pip_download(python, dest, ["-r", str(req)])
    dropped = []
    for wheel in sorted(dest.glob("*.whl")):
        if on_gpu_machine(wheel_name(wheel.name)):
            wheel.unlink()
            dropped.append(wheel.name)
    return dropped


def pack_nvcc(dest: Path, python: str = sys.executable) -> Path:
    """``nvcc.tar.xz``: the CUDA 13 compiler, headers and runtime from PyPI's nvidia wheels,
    laid out as a CUDA root (bin/, include/, lib/); run.sh unpacks it where nvcc is missing."""
    with tempfile.TemporaryDirectory(prefix="gpucheck-nvcc-") as tmp:
        wheels, tree = Path(tmp) / "wheels", Path(tmp) / "tree"
        pip_download(python, wheels, ["--no-deps", *NVCC_WHEELS])
        for wheel in wheels.glob("*.whl"):
            with zipfile.ZipFile(wheel) as zf:
                zf.extractall(tree)
        roots = sorted(p for p in (tree / "nvidia").glob("cu*") if (p / "bin").is_dir())
        if not roots:
            raise RuntimeError("the nvidia wheels hold no nvidia/cu*/bin")
        for exe in (roots[0] / "bin").rglob("*"):  # zip files keep no modes
            if exe.is_file():
                exe.chmod(0o755)
        target = dest / "nvcc.tar.xz"
        with tarfile.open(target, "w:xz") as tar:
            tar.add(roots[0], arcname=".")
    return target


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def tree_size(root: Path = ROOT) -> int:
    """Bytes of what travels without being carried: the tracked files and the untracked ones
    git does not ignore."""
    proc = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                          cwd=root, capture_output=True, check=True)
    total = 0
    for name in set(proc.stdout.decode(errors="surrogateescape").split("\0")):
        path = root / name
        if name and path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def carry_paths() -> list[str]:
    return [str(CACHE), str(EGG_INFO)]


def next_step() -> str:
    """What to do on the GPU machine, once prepared."""
    carry = ", ".join(f'"{p}"' for p in carry_paths())
    return (f"On the GPU machine, from the checkout's root with {' and '.join(carry_paths())} "
            f"beside it:\n  {RUN_COMMAND}\n(the device tool: run command={RUN_COMMAND!r}, "
            f"carry=[{carry}], timeout_s={RUN_TIMEOUT_S}; it writes to $OUT, "
            "default /tmp/gpucheck-out, and prints a SUMMARY at the end)")


def prep(root: Path = ROOT, nvcc: bool = False, python: str = sys.executable) -> int:
    """Lay out .cache/gpucheck/ and the egg-info; print the sizes and the next step. Returns
    the bytes that travel (checkout + carried paths)."""
    cache = root / CACHE
    if cache.exists():
        shutil.rmtree(cache)
    (cache / "wheels").mkdir(parents=True)
    for name in SCRIPTS:
        shutil.copy2(root / ".ci" / "gpucheck" / name, cache / name)
    reqs = requirements(root / "pyproject.toml")
    (cache / "req.txt").write_text("\n".join(reqs) + "\n", encoding="utf-8")
    print(f"req.txt: {len(reqs)} requirements ({', '.join(requirement_name(r) for r in reqs)})")
    dropped = download_wheels(cache / "req.txt", cache / "wheels", python)
    wheels = sorted(p.name for p in (cache / "wheels").glob("*.whl"))
    print(f"wheels: {len(wheels)}, {mib(size(cache / 'wheels'))}"
          + (f" (left out, the GPU machine has them: {', '.join(dropped)})" if dropped else ""))
    if nvcc:
        print(f"nvcc: {mib(size(pack_nvcc(cache, python)))}")
    print(ensure_egg_info(root, python))
    carried = size(cache) + size(root / EGG_INFO)
    tree = tree_size(root)
    print(f"size: {CACHE}/ {mib(size(cache))} + {EGG_INFO}/ {mib(size(root / EGG_INFO))} "
          f"= {mib(carried)} carried; with the checkout ({mib(tree)}): {mib(carried + tree)} "
          f"of at most {mib(LIMIT_BYTES)}")
    print("carry: " + " ".join(carry_paths()))
    print(next_step())
    return carried + tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nvcc", action="store_true",
                        help="also pack nvcc from PyPI's nvidia wheels (about 34 MiB more)")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter whose pip downloads (default: this one)")
    args = parser.parse_args(argv)
    total = prep(ROOT, nvcc=args.nvcc, python=args.python)
    if total > LIMIT_BYTES:
        print(f"TOO BIG: {mib(total)} would travel, over {mib(LIMIT_BYTES)}"
              + ("" if not args.nvcc else " (leave out --nvcc)"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
