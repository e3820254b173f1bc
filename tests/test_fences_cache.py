"""The cache: what re-runs after which edit, corrupt entries, frozen and rerun modes."""

from __future__ import annotations

import json
import os
import shutil

from conftest import write_files
from execblog.kernel.store import seal, unseal

POST = """
    Title: Cached
    Date: 2026-03-01

    {prose}

    ```python exec
    import time
    t0 = time.time_ns()
    print("first", {first})
    ```

    ```python exec
    with open("data.txt") as fh:
        print("second", fh.read().strip())
    ```

    ```python exec session=solo
    import matplotlib.pyplot as plt
    plt.plot([0, 1], [0, {third}])
    ```
    """

OTHER = """
    Title: Other
    Date: 2026-03-02

    ```python exec
    print("other post")
    ```
    """


def files(prose="Some prose.", first=1, third=1):
    return {"posts/cached.md": POST.format(prose=prose, first=first, third=third),
            "posts/other.md": OTHER}


def statuses(build, source):
    return [f["status"] for f in build.report["fences"] if f["source"] == source]


def test_cache_hits_and_invalidation(site, tmp_path):
    write_files(tmp_path / "content", {"posts/data.txt": "v1"})  # fences run in the post's folder
    first = site(files())
    assert first.returncode == 0, first.log
    assert statuses(first, "posts/cached.md") == ["ran", "ran", "ran"]
    page1 = first.read("posts/cached/index.html")

    warm = site()
    assert statuses(warm, "posts/cached.md") == ["cached"] * 3
    assert statuses(warm, "posts/other.md") == ["cached"]
    assert warm.read("posts/cached/index.html") == page1  # same bytes, figure names included

    prose = site(files(prose="Edited prose: a whole new sentence, $x^2$ and **bold**."))
    assert statuses(prose, "posts/cached.md") == ["cached"] * 3

    edit = site(files(first=2))
    assert statuses(edit, "posts/cached.md") == ["ran", "ran", "cached"]
    assert statuses(edit, "posts/other.md") == ["cached"]

    solo = site(files(first=2, third=5))
    assert statuses(solo, "posts/cached.md") == ["cached", "cached", "ran"]


def test_highlighted_sources_are_kept_and_read_back(site, tmp_path):
    """A warm build reads each fence's highlighted source from ``highlight/`` instead of
    running Pygments again (the page is the same bytes); an edited fence gets its own."""
    write_files(tmp_path / "content", {"posts/data.txt": "v1"})
    first = site(files())
    kept = sorted((first.cache / "highlight").glob("*.html"))
    assert len(kept) == 4  # one per fence shown
    page = first.read("posts/cached/index.html")
    marked = next(p for p in kept if b"other post" in p.read_bytes())
    # a sound edit (its checksum made again, Pygments' markup only) is read back as it is
    html = unseal(marked.name, marked.read_bytes()).decode()
    marked.write_bytes(seal(marked.name, html.replace(
        '<span class="nb">print', '<span class="nb read-back">print', 1).encode()))

    warm = site()
    assert statuses(warm, "posts/other.md") == ["cached"]
    assert '<span class="nb read-back">print' in warm.read("posts/other/index.html")
    assert warm.read("posts/cached/index.html") == page
    assert sorted((warm.cache / "highlight").glob("*.html")) == kept
    assert "corrupt derived file" not in warm.log
    # a hand edit is caught, named, and the page gets the fence's own source again
    marked.write_bytes(marked.read_bytes().replace(b"other post", b"read back"))
    edited = site()
    assert f"{marked.name}: warning: corrupt derived file" in edited.log
    assert "read back" not in edited.read("posts/other/index.html")

    edit = site(files(first=2))
    assert len(list((edit.cache / "highlight").glob("*.html"))) == 5


def test_declared_inputs_are_part_of_the_key(site, tmp_path):
    content = tmp_path / "content"
    write_files(content, {"posts/data.txt": "v1"})
    post = {"posts/in.md": """
        Title: Inputs
        Date: 2026-03-03

        ```python exec inputs=data.txt
        from pathlib import Path
        print(Path(__file__ if "__file__" in globals() else ".").name)
        ```
        """}
    assert site(post).statuses() == ["ran"]
    assert site().statuses() == ["cached"]
    (content / "posts/data.txt").write_text("v2")
    assert site().statuses() == ["ran"]

    (content / "posts/data.txt").unlink()
    missing = site()
    assert missing.statuses() == ["failed"]
    assert "inputs: cannot read 'data.txt'" in missing.report["fences"][0]["message"]


def test_corrupt_entry_is_a_miss_with_a_warning(site):
    post = {"posts/c.md": "Title: C\nDate: 2026-03-04\n\n```python exec\nprint(41 + 1)\n```\n"}
    first = site(post)
    (entry,) = (first.cache / "entries").rglob("*.json")
    entry.write_text(entry.read_text()[:40])  # a partial write
    again = site()
    assert again.returncode == 0
    assert again.statuses() == ["ran"]
    assert "corrupt cache entry" in again.log
    assert again.post("c").select_one("pre.fence-stdout").text == "42\n"
    json.loads(entry.read_text())  # rewritten whole


def test_corrupt_blob_is_a_miss(site):
    post = {"posts/f.md": "Title: F\nDate: 2026-03-05\n\n```python exec\n"
            "import matplotlib.pyplot as plt\nplt.plot([1, 2])\n```\n"}
    site(post)
    (blob,) = [p for p in (site().cache / "blobs").rglob("*") if p.is_file()]
    blob.write_bytes(b"<svg>broken")
    again = site()
    assert again.statuses() == ["ran"]
    assert "corrupt cache entry" in again.log


def test_cache_false_runs_every_build(site):
    post = {"posts/n.md": "Title: N\nDate: 2026-03-06\n\n```python exec cache=false\n"
            "print('again')\n```\n\n```python exec\nprint('once')\n```\n"}
    assert site(post).statuses() == ["ran", "ran"]
    assert site().statuses() == ["ran", "ran"]  # the session re-runs from its start


def test_frozen_mode_uses_cache_and_fails_on_missing_entries(site, tmp_path):
    post = {"posts/z.md": "Title: Z\nDate: 2026-03-07\n\n```python exec\nprint('z')\n```\n"}
    assert site(post).statuses() == ["ran"]
    frozen = site(settings={"FENCES_MODE": "frozen"})
    assert frozen.statuses() == ["cached"]
    write_files(tmp_path / "content", {"posts/new.md": "Title: New\nDate: 2026-03-08\n\n"
                                       "```python exec\nprint('new')\n```\n"})
    missing = site(settings={"FENCES_MODE": "frozen", "FENCES_STRICT": True})
    assert missing.returncode != 0
    assert "posts/new.md:4: error: not in the cache" in missing.log


def test_rerun_mode_ignores_the_cache(site):
    post = {"posts/r.md": "Title: R\nDate: 2026-03-09\n\n```python exec\nprint('r')\n```\n"}
    site(post)
    assert site(settings={"FENCES_MODE": "rerun"}).statuses() == ["ran"]


def test_gpu_results_are_kept_and_labelled_on_a_machine_without_gpu(site):
    """A result recorded on a GPU (as committed from a GPU machine) is reused, labelled."""
    post = {"posts/g.md": "Title: G\nDate: 2026-03-10\n\n```python exec\nprint('gpu')\n```\n"}
    first = site(post)
    (entry,) = (first.cache / "entries").rglob("*.json")
    record = json.loads(entry.read_text())
    record["backend"] = {"name": "cupy", "label": "CuPy · NVIDIA H100", "device": "NVIDIA H100",
                         "gpu": True, "versions": {"cupy": "13.3.0"}}
    entry.write_text(json.dumps(record))
    again = site()
    assert again.statuses() == ["cached"]
    label = again.post("g").select_one("span.fence-backend")
    assert label.text == "CuPy · NVIDIA H100" and label["data-backend"] == "cupy"


BETTER = '''
import numpy
from execblog.engine import hookimpl
from execblog.engine.backends import ArrayBackend, BackendCandidate


def probe():
    return ArrayBackend(name="abacus", xp=numpy, device="a CPU, under another name")


@hookimpl
def fences_backend_candidates():
    return [BackendCandidate(name="abacus", preference=20, installed=lambda: True, probe=probe)]
'''


def test_a_machine_with_a_better_backend_reruns_auto_results(site, tmp_path, monkeypatch):
    """Results recorded on NumPy re-run where `auto` can do better (here: a plugin backend)."""
    post = {"posts/b.md": "Title: B\nDate: 2026-03-11\n\n```python exec\nprint(backend.name)\n"
            "```\n\n```python exec backend=numpy\nprint(backend.name)\n```\n"}
    first = site(post)
    assert first.statuses() == ["ran", "ran"]
    write_files(tmp_path / "lib", {"better.py": BETTER})
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "lib"))
    better = site(settings={"FENCES_PLUGINS": ["better"]})
    assert better.statuses() == ["ran", "ran"]  # the session re-runs from its start
    assert "fences: backend auto -> abacus" in better.log
    outs = [p.text for p in better.post("b").select("pre.fence-stdout")]
    assert outs == ["abacus\n", "numpy\n"]
    assert [f["backend"] for f in better.report["fences"]] == ["abacus", "numpy"]


def test_fork_server_starts_early_only_when_a_post_changed_since_the_last_report(tmp_path):
    """The engine warms the fork server up at start when Markdown is newer than the report."""
    from execblog.engine.pipeline import _edited_since

    post, report = tmp_path / "content" / "posts" / "a.md", tmp_path / "report.json"
    post.parent.mkdir(parents=True)
    post.write_text("x")
    assert _edited_since(str(tmp_path / "content"), report)  # no build yet
    report.write_text("{}")
    os.utime(post, (1_000_000, 1_000_000))
    os.utime(report, (2_000_000, 2_000_000))
    assert not _edited_since(str(tmp_path / "content"), report)
    os.utime(post, (3_000_000, 3_000_000))
    assert _edited_since(str(tmp_path / "content"), report)



def test_an_empty_cache_starts_no_fork_server_where_no_fence_ran_last_time(tmp_path):
    """The fork server starts as the engine does when the cache is empty (a cold build) only
    where the last report lists fences that ran: a site with no exec fence, whose cache is
    always empty, never starts one (the fenced site, cold, shows the profile sees it)."""
    from conftest import run_pelican

    profile = tmp_path / "profile.jsonl"

    def build(name, files):
        write_files(tmp_path / name, files)
        cache = tmp_path / f"{name}-cache"
        settings = {"FENCES_CACHE_PATH": str(cache),
                    "FENCES_REPORT": str(tmp_path / f"{name}-report.json")}
        run = lambda: run_pelican(tmp_path / name, tmp_path / f"{name}-out",  # noqa: E731
                                  settings=settings, env={"EXECBLOG_PROFILE": str(profile)})
        assert run().returncode == 0
        if cache.exists():
            shutil.rmtree(cache)  # cold, the report kept
        profile.unlink(missing_ok=True)
        proc = run()
        assert proc.returncode == 0, proc.stdout + proc.stderr
        lines = profile.read_text().splitlines() if profile.exists() else []
        return [json.loads(line)["phase"] for line in lines]

    fenced = build("fenced", {"posts/a.md": "Title: A\nDate: 2026-03-11\n\n"
                                            "```python exec\nprint(1)\n```\n"})
    assert "fork server: imports and warm-up" in fenced
    plain = build("plain", {"posts/b.md": "Title: B\nDate: 2026-03-11\n\n"
                                          "```python\nprint(1)\n```\n"})
    assert "fork server: imports and warm-up" not in plain
