"""Nothing a fence starts outlives its build; interrupts stop everything; fences may fork."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from conftest import pelican_cmd, pelican_env, write_files

HEAD = "Title: {t}\nDate: 2026-03-0{d}\n\n"


def _processes_with(marker: str) -> list[int]:
    """Pids whose command line holds ``marker`` (zombies are gone processes: skipped)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            state = Path(f"/proc/{name}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _start_build(tmp_path: Path, files: dict[str, str], tmp: Path,
                 **settings) -> subprocess.Popen:
    """Build in the background with TMPDIR=tmp (the short_tmpdir fixture)."""
    write_files(tmp_path / "content", files)
    merged = {"FENCES_CACHE_PATH": str(tmp_path / "cache"), **settings}
    return subprocess.Popen(
        pelican_cmd(tmp_path / "content", tmp_path / "out", settings=merged),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=pelican_env({"TMPDIR": str(tmp)}),
    )


def _stuck_posts(tmp_path: Path, marker: str) -> dict[str, str]:
    """A child process, a double-forked daemon, and a session stuck in C holding the GIL."""
    ready = tmp_path / "ready"
    spawn = (
        "```python exec timeout=600\n"
        "import os, subprocess, sys\n"
        "sleeper = 'import time; time.sleep(300)'\n"
        f"subprocess.Popen([sys.executable, '-c', sleeper, '{marker}'])\n"
        "daemon = ('import os, time\\n'\n"
        "          'if os.fork(): os._exit(0)\\n'\n"
        "          'os.setsid()\\n'\n"
        "          'if os.fork(): os._exit(0)\\n'\n"
        "          'time.sleep(300)\\n')\n"
        f"subprocess.run([sys.executable, '-c', daemon, '{marker}'])\n"
        f"open({str(ready / 'spawn')!r}, 'w').write(str(os.getpid()))\n"
        "sum(range(10**12))\n"
        "```\n"
    )
    gil = (
        "```python exec timeout=600\n"
        "import os\n"
        f"open({str(ready / 'gil')!r}, 'w').write(str(os.getpid()))\n"
        "sum(range(10**12))\n"
        "```\n"
    )
    ready.mkdir(exist_ok=True)
    return {"posts/spawn.md": HEAD.format(t="Spawn", d=1) + spawn,
            "posts/gil.md": HEAD.format(t="Gil", d=2) + gil}


def _both_running(tmp_path: Path) -> bool:
    return all((tmp_path / "ready" / name).exists() for name in ("spawn", "gil"))


def _session_pids(tmp_path: Path) -> list[int]:
    return [int((tmp_path / "ready" / name).read_text()) for name in ("spawn", "gil")]


def test_killed_build_leaves_no_process_and_releases_its_stdout(tmp_path, short_tmpdir):
    marker = f"fences-test-{uuid.uuid4().hex[:8]}"
    build = _start_build(tmp_path, _stuck_posts(tmp_path, marker), short_tmpdir,
                         FENCES_WORKERS=2)
    try:
        assert _wait_for(lambda: _both_running(tmp_path), 60), "the fences never started"
        assert _wait_for(lambda: len(_processes_with(marker)) >= 2, 10)
        sessions = _session_pids(tmp_path)
        build.kill()  # SIGKILL: nothing in the build process gets to clean up
        # `cat` on the build's stdout returns as soon as the build is gone:
        done = threading.Event()
        threading.Thread(target=lambda: (build.stdout.read(), done.set()), daemon=True).start()
        assert done.wait(10), "something still holds the build's stdout open"
        assert _wait_for(lambda: not _processes_with(marker), 10), _processes_with(marker)
        assert _wait_for(lambda: not any(_alive(p) for p in sessions), 10)
    finally:
        build.kill()
        build.wait()
        for pid in _processes_with(marker):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_build_stops_everything_and_caches_nothing(tmp_path, short_tmpdir, sig,
                                                              code):
    marker = f"fences-test-{uuid.uuid4().hex[:8]}"
    files = _stuck_posts(tmp_path, marker)
    queued = "".join(
        f"```python exec\nprint({i})\n```\n\n" for i in range(3)
    )
    for i in range(4):  # more sessions than workers: some are still queued
        files[f"posts/queued{i}.md"] = HEAD.format(t=f"Queued {i}", d=3) + queued
    build = _start_build(tmp_path, files, short_tmpdir, FENCES_WORKERS=2)
    try:
        assert _wait_for(lambda: _both_running(tmp_path), 60), "the fences never started"
        sessions = _session_pids(tmp_path)
        build.send_signal(sig)
        log, _ = build.communicate(timeout=20)
    finally:
        build.kill()
        for pid in _processes_with(marker):
            os.kill(pid, signal.SIGKILL)
    assert build.returncode == code, log
    assert "build interrupted" in log
    assert not _processes_with(marker)
    assert not any(_alive(p) for p in sessions)
    assert not list((tmp_path / "tmp").iterdir()), "temporary folders left behind"
    # Sessions that had finished may be cached whole; the interrupted ones leave nothing.
    entries = [json.loads(p.read_text()) for p in (tmp_path / "cache").glob("entries/*/*.json")]
    assert len(entries) % 3 == 0, "part of a session was cached"
    assert all(e["status"] == "ran" for e in entries)


def test_fences_may_fork_and_use_process_pools(site):
    body = (
        "```python exec\n"
        "import os\n"
        "from multiprocessing import Pool\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "def square(x):\n"
        "    return x * x\n"
        "with Pool(2) as pool:\n"
        "    print('pool', pool.map(square, range(5)))\n"
        "with ProcessPoolExecutor(2) as ex:\n"
        "    print('executor', list(ex.map(square, range(4))))\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    print('child', flush=True)\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print('parent')\n"
        "```\n\n"
        "```python exec\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    print('forked child returns into the engine')\n"
        "else:\n"
        "    os.waitpid(pid, 0)\n"
        "print('after fork', os.getpid() == pid)\n"
        "```\n\n"
        "```python exec\n"
        "print('third')\n"
        "```\n"
    )
    build = site({"posts/fork.md": HEAD.format(t="Fork", d=4) + body})
    assert build.returncode == 0, build.log
    assert build.statuses() == ["ran", "ran", "ran"], build.log
    outputs = [o.get_text() for o in build.post("fork").select(".fence-outputs")]
    assert outputs[0].split() == ["pool", "[0,", "1,", "4,", "9,", "16]",
                                  "executor", "[0,", "1,", "4,", "9]", "child", "parent"]
    # The child printed, then came back into the engine and left quietly: one result only.
    assert "forked child returns into the engine" in outputs[1]
    assert outputs[1].count("after fork") == 2  # the child's and the parent's line
    assert outputs[2].strip().startswith("third")
    again = site()
    assert again.statuses() == ["cached"] * 3


def test_timed_out_fence_keeps_what_it_printed(site):
    body = ("```python exec timeout=1\nprint('made it this far', flush=True)\n"
            "while True:\n    pass\n```\n")
    build = site({"posts/slow.md": HEAD.format(t="Slow", d=5) + body})
    text = build.post("slow").select_one(".fence-outputs").get_text()
    assert "made it this far" in text
    assert "timed out after 1 s" in text and "timeout=" in text and "FENCES_TIMEOUT" in text
    report = json.loads((build.cache / "report.json").read_text())
    assert [f["status"] for f in report["fences"]] == ["timeout"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_the_guardian_ends_by_the_signal_that_ended_the_fence(sig):
    # SIGKILL too (it takes no handler): the host must see a kill, not "exited with 137"
    from execblog.executors.local.containment import guard

    pid = os.fork()
    if pid == 0:
        try:
            guard(os.getppid(), lambda: os.kill(os.getpid(), sig),
                  in_guardian=lambda: None, on_host_death=lambda: None)
        finally:
            os._exit(99)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == sig
