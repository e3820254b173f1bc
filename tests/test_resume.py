"""Resumable sessions: in a long-lived executor, an edit of fence k re-runs from fence k.

Each test runs real Pelican several times in ONE process (a helper script, as the preview
does), with an executor plugin that keeps one local pool alive across the builds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, run_pelican, write_files

# The preview's part, for these tests: one pool for every build in this process.
KEEPALIVE = '''
import os
from execblog.engine import hookimpl
from execblog.executors.local.pool import SessionPool

POOL = None
PARKED = []  # every snapshot pid ever parked (the test checks dropped ones are gone)


class KeepAlive(SessionPool):
    def shutdown(self):
        pass  # the script closes it after its last build

    def close(self):
        super().shutdown()


@hookimpl
def fences_executor(settings, engine):
    global POOL
    if engine.executor != "keepalive":
        return None
    if POOL is None:
        POOL = KeepAlive(engine.workers, list(engine.plugins), engine.timeout, settings)
        if int(os.environ.get("SNAPSHOTS", "0")):
            POOL.enable_snapshots(count=int(os.environ["SNAPSHOTS"]))
            parked = POOL.snapshots.parked

            def spy(fence, tree, address, pid):
                PARKED.append(pid)
                parked(fence, tree, address, pid)

            POOL.snapshots.parked = spy
    return POOL
'''

# Builds each step's files in one process; prints one JSON line per build.
SCRIPT = '''
import hashlib, json, os, sys, time
from pathlib import Path
from pelican import Pelican
from pelican.settings import read_settings
import keepalive

root, base, steps = sys.argv[1], Path(sys.argv[2]), json.loads(Path(sys.argv[3]).read_text())
content, out, cache = base / "content", base / "out", base / "cache"

def alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rpartition(b")")[2].split()[0] != b"Z"
    except OSError:
        return False

for step in steps:
    for rel, text in step.items():
        path = content / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    settings = read_settings(os.path.join(root, "pelicanconf.py"), override={
        "PATH": str(content), "OUTPUT_PATH": str(out), "FENCES_CACHE_PATH": str(cache),
        "FENCES_PLUGINS": ["keepalive"], "FENCES_EXECUTOR": "keepalive",
        "FENCES_WORKERS": 2})
    started = time.perf_counter()
    Pelican(settings).run()
    wall = time.perf_counter() - started
    time.sleep(float(os.environ.get("SETTLE", "0")))  # roots reap every half second
    store = keepalive.POOL.snapshots
    pages = {p.parent.name: p.read_text() for p in (out / "posts").glob("*/index.html")}
    print(json.dumps({"wall": wall, "report": json.loads((cache / "report.json").read_text()),
                      "pages": pages, "parked": store.pids() if store else [],
                      "private": store.private_bytes() if store else 0,
                      "entries": {p.stem: [p.stat().st_mtime_ns,
                                           hashlib.sha256(p.read_bytes()).hexdigest()]
                                  for p in (cache / "entries").glob("*/*.json")},
                      "dropped_alive": [p for p in keepalive.PARKED if alive(p)
                                        and p not in (store.pids() if store else [])]}),
          flush=True)
store = keepalive.POOL.snapshots
guardians = [t.pid for t in store.guardians()] if store else []
if os.environ.get("DIE"):  # the host dies: its guardians see it and kill their trees
    print(json.dumps({"parked_ever": keepalive.PARKED, "guardians": guardians}), flush=True)
    os.kill(os.getpid(), 9)
keepalive.POOL.close()
time.sleep(0.5)
print(json.dumps({"closed_alive": [p for p in keepalive.PARKED + guardians if alive(p)],
                  "parked_ever": keepalive.PARKED}), flush=True)
'''

HEAD = "Title: {t}\nDate: 2026-06-0{d}\n\n"
# How many processes run below the fence's own: a run with snapshots on has parked one
# after each earlier fence; a session without them has none.
CHILDREN = ("from execblog.executors.local.containment import descendants\nimport os\n"
            "print('children', len(descendants(os.getpid())))")


def fence(body: str, opts: str = "") -> str:
    return f"```python exec{opts}\n{textwrap.dedent(body).strip()}\n```\n\n"


def post(title: str, day: int, *fences: str) -> str:
    return HEAD.format(t=title, d=day) + "".join(fences)


def counting(log: Path, name: str) -> str:
    """Code that records each time it runs (a fence that re-ran leaves one more line)."""
    return f"open({str(log)!r}, 'a').write({name!r} + '\\n')\n"


def run_builds(base: Path, steps: list[dict[str, str]], snapshots: int, settle: float = 0,
               die: bool = False, timeout: float = 120) -> tuple[list[dict], dict, str]:
    lib = base / "lib"
    write_files(lib, {"keepalive.py": KEEPALIVE, "builds.py": SCRIPT})
    (base / "steps.json").write_text(json.dumps(steps))
    env = dict(os.environ, PYTHONPATH=f"{lib}{os.pathsep}{ROOT / 'plugins'}",
               PYTHONUNBUFFERED="1", COLUMNS="400", SNAPSHOTS=str(snapshots), SETTLE=str(settle))
    if die:
        env["DIE"] = "1"
    proc = subprocess.run([sys.executable, str(lib / "builds.py"), str(ROOT), str(base),
                           str(base / "steps.json")], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=base)
    assert proc.returncode == (-9 if die else 0), proc.stdout + proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return lines[:-1], lines[-1], proc.stdout + proc.stderr


def fences_of(build: dict, source: str) -> list[dict]:
    return [f for f in build["report"]["fences"] if f["source"] == source]


def outputs(build: dict, slug: str) -> list[str]:
    soup = BeautifulSoup(build["pages"][slug], "html.parser")
    return [pre.get_text().strip() for pre in soup.select(".fence-outputs pre")]


def cache_entry(base: Path, key: str) -> Path:
    return base / "cache" / "entries" / key[:2] / f"{key}.json"


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    """Three builds in one process with snapshots on: first, then two edits."""
    base = tmp_path_factory.mktemp("resume")
    log = base / "runs.log"
    (base / "content" / "posts").mkdir(parents=True)
    (base / "content" / "posts" / "data.txt").write_text("one")
    slow = fence(counting(log, "slow") + "import time\ntime.sleep(2)\nx = 41")
    thread = fence(counting(log, "thread") + "import threading, time\n"
                   "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
                   "y = 1")
    reads = fence(counting(log, "reads") + "z = open('data.txt').read()", " inputs=data.txt")

    # then a resumed run crashes, another times out, and the fix resumes again
    faults = ["print(w)", "import os\nos._exit(3)", "#| timeout: 1\nwhile True: pass",
              "print(w + 1)"]

    def posts(edit: int, fault: int) -> dict[str, str]:
        return {"posts/slow.md": post("Slow", 1, slow, fence(f"print(x + {edit})")),
                "posts/thread.md": post("Thread", 2, thread, fence(f"print(y + {edit})")),
                "posts/reads.md": post("Reads", 3, reads, fence("print(z)")),
                "posts/children.md": post("Children", 4, fence("x = 1"), fence(CHILDREN)),
                "posts/faults.md": post("Faults", 5, fence(counting(log, "faults") + "w = 5"),
                                        fence(faults[fault]))}

    steps = [posts(1, 0), posts(2, 1), posts(3, 2), posts(3, 3)]
    steps[2]["posts/data.txt"] = "two"
    started = time.perf_counter()
    builds, closed, text = run_builds(base, steps, snapshots=16)
    return {"base": base, "builds": builds, "closed": closed, "log": text,
            "runs": log.read_text().split(), "seconds": time.perf_counter() - started}


def test_an_edit_resumes_at_the_edited_fence(resumed):
    first, second, third, _ = resumed["builds"]
    assert [f["status"] for f in fences_of(first, "posts/slow.md")] == ["ran", "ran"]
    for build, answer in ((second, "43"), (third, "44")):
        slow = fences_of(build, "posts/slow.md")
        assert [f["status"] for f in slow] == ["cached", "ran"]
        assert answer in outputs(build, "slow")  # x came from the snapshot of fence 1
        assert sum(f["seconds"] for f in build["report"]["fences"]
                   if f["status"] == "ran" and f["source"] == "posts/slow.md") < 2
    assert resumed["runs"].count("slow") == 1  # fence 1 never ran again
    assert second["wall"] < first["wall"] - 1.5, (first["wall"], second["wall"])


def test_unchanged_fences_keep_their_cache_entry(resumed):
    builds = resumed["builds"]
    key = fences_of(builds[0], "posts/slow.md")[0]["key"]
    assert {fences_of(b, "posts/slow.md")[0]["key"] for b in builds} == {key}
    assert len({json.dumps(b["entries"][key]) for b in builds}) == 1  # same mtime, same bytes
    edited = {fences_of(b, "posts/slow.md")[1]["key"] for b in builds}
    assert all(k in builds[-1]["entries"] for k in edited)  # each edit was cached
    record = json.loads(cache_entry(resumed["base"], key).read_bytes())
    assert fences_of(builds[2], "posts/slow.md")[0]["seconds"] == pytest.approx(
        record["seconds"], abs=1e-3)  # shown with the time it took when it ran


def test_a_thread_still_running_falls_back_with_one_note(resumed):
    _, second, third, _ = resumed["builds"]
    assert resumed["runs"].count("thread") == 3  # each edit ran fence 1 again
    assert "3" in outputs(second, "thread") and "4" in outputs(third, "thread")
    notes = [line for line in resumed["log"].splitlines() if "thread.md" in line
             and "no snapshot" in line]
    assert len(notes) == 1, notes
    assert notes[0].endswith("a thread started in this session is still running (Thread-1 "
                             "(sleep))"), notes[0]
    assert ": note: session re-runs from its first fence" in notes[0]


def test_changed_inputs_rerun_from_the_fence_that_declares_them(resumed):
    _, second, third, _ = resumed["builds"]
    assert resumed["runs"].count("reads") == 2  # the first build and the input change
    assert [f["status"] for f in fences_of(second, "posts/reads.md")] == ["cached", "cached"]
    assert [f["status"] for f in fences_of(third, "posts/reads.md")] == ["ran", "ran"]
    assert "two" in outputs(third, "reads")
    notes = [line for line in resumed["log"].splitlines() if "reads.md" in line]
    assert any("the inputs= files of the fence there changed" in n for n in notes), notes


def test_a_resumed_run_that_crashes_or_times_out_keeps_the_snapshot(resumed):
    _, crashed, stuck, fixed = (fences_of(b, "posts/faults.md") for b in resumed["builds"])
    assert [f["status"] for f in crashed] == ["cached", "crashed"]
    assert crashed[1]["message"] == "the session process exited with status 3"
    assert [f["status"] for f in stuck] == ["cached", "timeout"]
    assert stuck[1]["message"].startswith("timed out after 1 s")
    assert [f["status"] for f in fixed] == ["cached", "ran"]
    assert resumed["runs"].count("faults") == 1  # every edit resumed after fence 1
    assert "6" in outputs(resumed["builds"][3], "faults")


def test_no_parked_process_outlives_the_executor(resumed):
    closed = resumed["closed"]
    assert closed["parked_ever"], "snapshots were parked"
    assert closed["closed_alive"] == []
    assert not [pid for pid in closed["parked_ever"] if _alive(pid)]


def test_snapshots_are_bounded_and_die_with_the_host(tmp_path):
    steps = [{"posts/many.md": post("Many", 1, *(fence(f"n = {i}") for i in range(5)))}]
    builds, died, _ = run_builds(tmp_path, steps, snapshots=2, settle=1.2, die=True)
    assert len(builds[0]["parked"]) == 2
    assert len(died["parked_ever"]) == 5
    assert builds[0]["parked"] == died["parked_ever"][-2:]  # the oldest were dropped
    assert builds[0]["dropped_alive"] == []
    assert 0 < builds[0]["private"] < 1 << 30  # what they cost, read from /proc
    deadline = time.monotonic() + 10
    left = died["parked_ever"] + died["guardians"]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [pid for pid in left if _alive(pid)]
    assert left == [], "parked processes outlived their host"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_run_with_snapshots_forks_them(resumed):
    assert "children 1" in outputs(resumed["builds"][0], "children")


def test_a_normal_build_forks_no_snapshot(tmp_path):
    """``invoke build``: one build per process, sessions as before (an edit re-runs the
    whole session: tests/test_fences_cache.py)."""
    write_files(tmp_path / "content", {"posts/a.md": post("A", 1, fence("x = 1"),
                                                          fence(CHILDREN))})
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "children 0" in (tmp_path / "out/posts/a/index.html").read_text()
    assert "snapshot" not in proc.stdout + proc.stderr


def test_the_memory_bound_drops_the_least_recently_used_first(tmp_path):
    """The store alone, over real parked processes (sleepers standing in for snapshots)."""
    from execblog.engine.model import Fence
    from execblog.executors.local.snapshots import SnapshotStore, Tree

    sleepers = [subprocess.Popen(["sleep", "60"]) for _ in range(3)]
    stopped: list[Tree] = []
    try:
        store = SnapshotStore(stopped.append, count=8, memory=1 << 40)
        tree = Tree(proc=None, lifeline=None, folder=str(tmp_path), address="", root=0)
        store.add_tree(tree)
        fences = [Fence(str(tmp_path / "a.md"), "a.md", i, i, "python", "", "", {}, i,
                        session="python:default", key=f"k{i}") for i in range(3)]
        for fence, proc in zip(fences, sleepers, strict=True):
            store.parked(fence, tree, "", proc.pid)
        assert store.pids() == [p.pid for p in sleepers]
        plan = store.plan(fences, 1, [[]] * 3)  # an edit of fence 2 resumes after k0...
        assert (plan.start, plan.snapshot.pid) == (1, sleepers[0].pid)
        store.release(plan.snapshot, tree)  # ...which is now the most recently used
        store.memory = store.private_bytes() - 1  # one snapshot too many
        store.release(None, tree)  # the first run ends: the bounds are checked
        assert sleepers[1].wait(5) == -signal.SIGKILL  # k1: the least recently used
        assert store.pids() == [sleepers[2].pid, sleepers[0].pid]
        assert stopped == []  # the tree still holds snapshots
        store.close()
        assert [p.wait(5) for p in sleepers] == [-9, -9, -9]
        assert stopped == [tree]
    finally:
        for proc in sleepers:
            proc.kill()
            proc.wait()


# The preview's own way: fences.lifetime holds the local executor, which turns snapshots on.
PRIMING = '''
import json, os, sys, time
from pathlib import Path
from pelican import Pelican
from pelican.settings import read_settings
from execblog.engine import lifetime

root, base = sys.argv[1], Path(sys.argv[2])
post = base / "content" / "posts" / "slow.md"

def build(edit):
    post.write_text(sys.argv[3].replace("EDIT", str(edit)))
    settings = read_settings(os.path.join(root, "pelicanconf.py"), override={
        "PATH": str(base / "content"), "OUTPUT_PATH": str(base / "out"),
        "FENCES_CACHE_PATH": str(base / "cache"), "FENCES_WORKERS": 2})
    Pelican(settings).run()
    return json.loads((base / "cache" / "report.json").read_text())["fences"]

build(1)  # a plain build fills the cache
lifetime.hold()  # what the preview does
build(1)  # all cached: the slow session is run again in the background, to park snapshots
pool = lifetime._holding[0].executor
pool._priming.submit(lambda: None).result()  # wait for the priming run
fences = build(2)  # the first edit after the start
print(json.dumps({"fences": fences}), flush=True)
lifetime.release()
'''


def test_a_preview_primes_cached_sessions_so_the_first_edit_resumes(tmp_path):
    log = tmp_path / "runs.log"
    text = post("Slow", 1, fence(counting(log, "slow") + "import time\ntime.sleep(1)\nx = 41"),
                fence("print(x + EDIT)"))
    (tmp_path / "content" / "posts").mkdir(parents=True)
    script = tmp_path / "priming.py"
    script.write_text(PRIMING)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "plugins"), COLUMNS="400")
    proc = subprocess.run([sys.executable, str(script), str(ROOT), str(tmp_path), text],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fences = json.loads(proc.stdout.strip().splitlines()[-1])["fences"]
    # once for the cache, once to prime; the edit resumed after it
    assert log.read_text().split() == ["slow", "slow"]
    assert [f["status"] for f in fences] == ["cached", "ran"]
    page = (tmp_path / "out" / "posts" / "slow" / "index.html").read_text()
    assert "43" in [pre.get_text().strip() for pre in
                    BeautifulSoup(page, "html.parser").select(".fence-outputs pre")]
