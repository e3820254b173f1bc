"""A memory limit per session (FENCES_MEMORY, the memory= option), enforced by the OS: a
cgroup's memory.max where the build may make one, else RLIMIT_DATA. Running out is a located
error that says so and names the limit; the rest of the site builds."""

from __future__ import annotations

import json
import os
import re
import signal
import time

import pytest
from conftest import cupy_usable, located, run_pelican, write_files
from execblog.engine.model import ERROR, FAILED, RAN, Fence, FenceResult, Output
from execblog.engine.options import COMMON_OPTIONS, OptionError, validate
from execblog.engine.settings import SettingsError, format_bytes, parse_memory, read
from execblog.executors.local import memory
from execblog.executors.local.memory import (
    MEMORY_NOTE,
    MemoryLimit,
    cgroup_dir,
    default_memory,
    machine_memory,
    memory_note,
    session_cgroup_parent,
)

HEAD = "Title: {t}\nDate: 2026-07-0{d}\n\n"
OUT_OF_MEMORY = "ran out of memory (limit 300 MiB"

POSTS = {
    # 50 MB steps until the limit: a MemoryError (RLIMIT_DATA) or the OOM killer (cgroup)
    "posts/steps.md": HEAD.format(t="Steps", d=1)
    + "```python exec\nprint('started')\nchunks = []\nwhile True:\n"
      "    chunks.append(bytearray(50_000_000))\n```\n\n"
      "```python exec\nprint('never')\n```\n",
    "posts/arrays.md": HEAD.format(t="Arrays", d=2)
    + "```python exec\nimport numpy as np\nchunks = []\nfor _ in range(200):\n"
      "    chunks.append(np.ones(50_000_000 // 8))\n```\n",
    # many small objects: no room left even to format the traceback
    "posts/small.md": HEAD.format(t="Small", d=3)
    + "```python exec\nitems = []\nwhile True:\n    items.append(str(len(items)) * 3)\n```\n",
    # under the limit; memory= raises it for one fence, the next one is back to 300M
    "posts/under.md": HEAD.format(t="Under", d=4)
    + "```python exec\nfirst = bytearray(100_000_000)\nprint('first', len(first))\n```\n\n"
      "```python exec memory=1G\nmore = [bytearray(50_000_000) for _ in range(8)]\n"
      "print('raised', len(more))\n```\n\n"
      "```python exec\nagain = bytearray(100_000_000)\n```\n",
    "posts/fine.md": HEAD.format(t="Fine", d=5) + "```python exec\nprint('still fine')\n```\n",
    "posts/option.md": HEAD.format(t="Option", d=6) + "```python exec memory=lots\n1\n```\n",
}




@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    base = tmp_path_factory.mktemp("memory")
    write_files(base / "content", POSTS)
    started = time.monotonic()
    proc = run_pelican(base / "content", base / "out",
                       settings={"FENCES_CACHE_PATH": str(base / "cache"),
                                 "FENCES_MEMORY": "300M"}, timeout=240)
    report = json.loads((base / "cache" / "report.json").read_text())
    return {"proc": proc, "log": proc.stdout + proc.stderr, "base": base, "report": report,
            "seconds": time.monotonic() - started}


def _fences(limited, source: str) -> list[dict]:
    return [f for f in limited["report"]["fences"] if f["source"] == source]


def _page(limited, slug: str) -> str:
    return (limited["base"] / "out" / "posts" / slug / "index.html").read_text()


def test_the_site_builds_and_the_healthy_posts_render(limited):
    assert limited["proc"].returncode == 0, limited["log"]
    assert "still fine" in _page(limited, "fine")
    assert "Traceback" not in limited["proc"].stderr
    assert limited["seconds"] < 120, limited["log"]  # nobody waited for a machine to swap


@pytest.mark.parametrize("slug, lines", [("steps", (4, 8)), ("arrays", (4, 8)),
                                         ("small", (4, 7))])
def test_running_out_is_a_located_error_naming_the_limit(limited, slug, lines):
    # line: the allocation (a MemoryError's traceback) or the fence (the OOM killer)
    errors = [(line, msg) for path, line, sev, msg in located(limited["log"])
              if path == f"content/posts/{slug}.md" and sev == "error"]
    assert len(errors) == 1, limited["log"]
    line, msg = errors[0]
    assert line in lines and OUT_OF_MEMORY in msg and "memory=SIZE" in msg, msg
    assert "FENCES_MEMORY" in msg
    fence = _fences(limited, f"posts/{slug}.md")[0]
    assert fence["status"] in ("failed", "crashed") and OUT_OF_MEMORY in fence["message"]
    assert fence["seconds"] < 30  # it failed within seconds of reaching the limit
    assert "ran out of memory (limit 300 MiB" in _page(limited, slug)


def test_the_rest_of_a_session_that_ran_out_is_skipped_and_what_it_printed_is_kept(limited):
    statuses = [f["status"] for f in _fences(limited, "posts/steps.md")]
    assert statuses[1] == "skipped"
    assert "started" in _page(limited, "steps")


def test_memory_raises_the_limit_for_its_fence_only(limited):
    fences = _fences(limited, "posts/under.md")
    assert [f["status"] for f in fences[:2]] == ["ran", "ran"], fences
    page = _page(limited, "under")
    assert "first 100000000" in page and "raised 8" in page
    # back to 300M, with the 500 MB the session holds: out of memory at once
    assert fences[2]["status"] in ("failed", "crashed") and OUT_OF_MEMORY in fences[2]["message"]


def test_a_bad_memory_option_is_a_located_option_error(limited):
    errors = [msg for path, line, sev, msg in located(limited["log"])
              if path == "content/posts/option.md" and sev == "error" and line == 4]
    assert errors and "memory" in errors[0] and "'lots'" in errors[0], limited["log"]


def test_a_bad_memory_setting_is_a_settings_error_naming_it(tmp_path):
    write_files(tmp_path / "content", {"posts/fine.md": POSTS["posts/fine.md"]})
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_MEMORY": "lots"}, timeout=60)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "settings: error: FENCES_MEMORY = 'lots' is not valid" in log, log
    assert '"4G"' in log and "Traceback" not in log


@pytest.mark.skipif(not cupy_usable(), reason="needs CuPy and a GPU")
def test_gpu_memory_does_not_count_and_cuda_starts_under_a_small_limit(site):
    # CUDA reserves huge ranges of address space: RLIMIT_AS would break it; the limit
    # (RLIMIT_DATA or a cgroup) counts host memory only.
    build = site({"posts/gpu.md": HEAD.format(t="GPU", d=7)
                  + "```python exec backend=cupy\nimport cupy\n"
                    "a = cupy.ones((32, 2**25), dtype=cupy.float32)  # 4 GiB on the device\n"
                    "print(float((a[:4] @ a[:4].T).sum()))\n```\n"},
                 settings={"FENCES_MEMORY": "1G"})
    assert build.returncode == 0, build.log
    assert build.statuses() == ["ran"], build.log


# -- units ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, size", [
    ("4G", 4 * 2**30), ("512M", 512 * 2**20), ("1.5G", 3 * 2**29), ("2GiB", 2 * 2**30),
    ("300mb", 300 * 2**20), (2**30, 2**30), (4e9, 4_000_000_000), ("0", 0), (0, 0),
    ("none", 0), (None, None), ("16M", 16 * 2**20),
])
def test_memory_sizes(value, size):
    assert parse_memory(value) == size


@pytest.mark.parametrize("value", ["lots", "-1G", "4X", "", "512", "15M", True, [1], "1.5"])
def test_bad_memory_sizes(value):
    with pytest.raises(ValueError, match="16M"):
        parse_memory(value)


def test_memory_setting_and_option():
    assert read({}).memory is None and read({"FENCES_MEMORY": "2G"}).memory == 2 * 2**30
    with pytest.raises(SettingsError, match="FENCES_MEMORY"):
        read({"FENCES_MEMORY": "2 gigs"})
    assert validate({"memory": ("512M", 3)}, COMMON_OPTIONS, {})["memory"] == 512 * 2**20
    assert validate({}, COMMON_OPTIONS, {})["memory"] is None
    with pytest.raises(OptionError, match="bad value '2 gigs' for option 'memory'"):
        validate({"memory": ("2 gigs", 3)}, COMMON_OPTIONS, {})
    assert format_bytes(2 * 2**30) == "2.0 GiB" and format_bytes(300 * 2**20) == "300 MiB"


def test_the_default_is_half_of_this_machines_memory():
    total = machine_memory()
    assert total and default_memory() == total // 2
    with open("/proc/meminfo") as fh:
        mem_total = int(re.search(r"^MemTotal:\s+(\d+) kB", fh.read(), re.M)[1]) * 1024
    assert total <= mem_total
    assert MemoryLimit({}).default == default_memory()
    assert MemoryLimit({"FENCES_MEMORY": 0}).default == 0


def _fence(options: dict) -> Fence:
    return Fence(path="/x/posts/a.md", source="posts/a.md", line=4, body_line=5,
                 kind="python", code="", exec_code="", options=options, index=0)


def test_a_memory_error_under_the_limit_says_so_and_other_errors_do_not(monkeypatch):
    limit = MemoryLimit({"FENCES_MEMORY": "2G"})
    applied = []
    monkeypatch.setattr(limit, "apply", applied.append)
    monkeypatch.setattr(limit, "lift", lambda: None)

    def failing(ename: str):
        return lambda fence: FenceResult(
            status=FAILED, message=f"{ename}: boom",
            outputs=[Output(ERROR, "Traceback ...", {"ename": ename})])

    result = limit.run(failing("_ArrayMemoryError"), _fence({}))
    assert result.message.startswith("ran out of memory (limit 2.0 GiB; raise it with the "
                                     "fence option memory=SIZE or the FENCES_MEMORY setting)")
    assert result.outputs[0].data.startswith("The fence ran out of memory (limit 2.0 GiB")
    assert limit.run(failing("ValueError"), _fence({})).message == "ValueError: boom"
    # the fence's own limit, and none at all
    assert "limit 512 MiB" in limit.run(failing("MemoryError"), _fence({"memory": 2**29})).message
    assert limit.run(failing("MemoryError"), _fence({"memory": 0})).message == "MemoryError: boom"
    assert applied == [2 * 2**30, 2 * 2**30, 2**29, 0]

    def escaping(fence):  # not even the traceback could be formatted
        raise MemoryError

    result = limit.run(escaping, _fence({}))
    assert result.status == FAILED and "ran out of memory (limit 2.0 GiB" in result.message
    ok = limit.run(lambda fence: FenceResult(status=RAN), _fence({}))
    assert ok.status == RAN and ok.message == ""


def test_rlimit_data_counts_from_the_start_of_the_session_and_lifts_between_fences():
    # In a child: the limit must not stay on the test process.
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            import resource

            os.close(read_end)
            limit = MemoryLimit({"FENCES_MEMORY": "64M"})

            class Session:
                def run(self, fence):
                    try:
                        held = [bytearray(8_000_000) for _ in range(20)]  # 160 MB
                    except MemoryError:
                        return FenceResult(status=FAILED, message="MemoryError",
                                           outputs=[Output(ERROR, "", {"ename": "MemoryError"})])
                    return FenceResult(status=RAN, message=str(len(held)))

            session = Session()
            limit.limit(session)
            first = session.run(_fence({}))
            soft = resource.getrlimit(resource.RLIMIT_DATA)[0]
            second = session.run(_fence({"memory": 2**30}))
            os.write(write_end, json.dumps([first.status, first.message, second.status,
                                            soft == resource.getrlimit(resource.RLIMIT_DATA)[1]
                                            ]).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as fh:
        got = json.loads(fh.read())
    os.waitpid(pid, 0)
    assert got[0] == FAILED and "limit 64 MiB" in got[1]
    assert got[2] == RAN  # memory= raised it for that fence
    assert got[3] is True  # nothing limits the session between fences


# -- cgroups: what can be checked without a delegated cgroup v2 memory controller ----------------
def test_cgroup_folders_are_found_from_mountinfo_paths(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert cgroup_dir(("/", str(tmp_path)), "/a/b") == str(tmp_path / "a" / "b")
    # a hierarchy mounted from /a (a container without a cgroup namespace)
    assert cgroup_dir(("/a", str(tmp_path / "a")), "/a/b") == str(tmp_path / "a" / "b")
    assert cgroup_dir(("/other", str(tmp_path)), "/a/b") is None
    assert cgroup_dir(("/", str(tmp_path)), "/missing") is None


def test_sessions_get_cgroups_only_where_the_memory_controller_is_delegated(tmp_path):
    root = tmp_path / "cgroup"
    (root / "build").mkdir(parents=True)
    (root / "cgroup.subtree_control").write_text("cpu io\n")
    mounts, own = {"v2": ("/", str(root))}, {"v2": "/build"}
    assert session_cgroup_parent(mounts, own) is None  # not delegated: RLIMIT_DATA
    (root / "cgroup.subtree_control").write_text("cpu io memory\n")
    assert session_cgroup_parent(mounts, own) == str(root)  # siblings of the build's group
    assert session_cgroup_parent(mounts, {"v2": "/"}) == str(root)  # the root itself
    assert session_cgroup_parent({}, own) is None  # no cgroup2 hierarchy
    # a folder that is not a cgroup (no memory.max appears in it) is given up at once
    assert memory._make_cgroup(str(root), "execblog-1") is None
    assert not (root / "execblog-1").exists()


def test_the_guardian_notes_an_oom_kill_and_the_host_reads_it(tmp_path):
    group = tmp_path / "execblog-1"
    group.mkdir()
    (group / "memory.max").write_text(f"{2 * 2**30}\n")
    (group / "memory.events").write_text("low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n")
    limit = MemoryLimit({}, note=str(tmp_path / MEMORY_NOTE))
    limit.cgroup = str(group)
    limit.finish(0)  # a normal exit: no note, whatever the counters say
    assert memory_note(str(tmp_path)) is None
    limit.finish(signal.SIGKILL)  # a wait status: killed by SIGKILL
    note = memory_note(str(tmp_path))
    assert note.startswith("ran out of memory (limit 2.0 GiB; raise it with the fence option "
                           "memory=SIZE or the FENCES_MEMORY setting)")
    assert "out-of-memory killer" in note

