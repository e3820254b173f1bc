"""The cache heals: file modes, checksums, damaged blobs and figures, stable entries, write
failures, and a report that counts only what ran."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from pathlib import Path

import pytest
from execblog.engine.cache import Cache, checksum
from execblog.engine.model import FenceResult, Output
from execblog.engine.report import write_report
from execblog.kernel.store import (
    CacheWriteError,
    DerivedFileError,
    keep_derived,
    read_derived,
    seal,
    trusts_derived,
    unseal,
)

FIGURE = """
    Title: Figure
    Date: 2026-04-01

    ```python exec alt="a line"
    import matplotlib.pyplot as plt
    plt.plot([0, 1], [0, 2])
    ```
    """

MIXED = """
    Title: Mixed
    Date: 2026-04-02

    ```python exec
    print(41 + 1)
    ```

    ```python exec
    print("x" * 5000)  # above the inline limit: a blob
    ```

    ```python exec alt="a line"
    import matplotlib.pyplot as plt
    plt.plot([0, 1], [0, 3])
    ```
    """


def blobs(cache: Path) -> list[Path]:
    return sorted(p for p in cache.glob("blobs/*/*") if p.is_file())


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("entries/*/*.json"))


def snapshot(paths: list[Path]) -> dict[Path, tuple[bytes, int]]:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def whole(blob: Path) -> bool:
    return hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- file modes ------------------------------------------------------------------------------


def test_figures_and_cache_files_get_the_modes_of_the_umask(site):
    old = os.umask(0o022)  # the build (a subprocess) inherits it
    try:
        build = site({"posts/mixed.md": MIXED})
    finally:
        os.umask(old)
    assert build.returncode == 0, build.log
    figures = list((build.output / "fences").glob("*.svg"))
    assert figures
    assert {mode(p) for p in figures} == {0o644}
    assert mode(build.output / "fences") == 0o755
    files = [p for p in build.cache.rglob("*") if p.is_file()]
    assert len(blobs(build.cache)) == 2 and len(entries(build.cache)) == 3
    assert {p.name for p in files} >= {"report.json"}
    assert {mode(p) for p in files} == {0o644}
    assert {mode(p) for p in build.cache.rglob("*") if p.is_dir()} == {0o755}


# --- healing through real builds -------------------------------------------------------------


def test_a_truncated_blob_is_rewritten_and_then_served(site):
    first = site({"posts/figure.md": FIGURE})
    assert first.statuses() == ["ran"]
    (blob,) = blobs(first.cache)
    (entry,) = entries(first.cache)
    before = snapshot([entry])
    blob.write_bytes(blob.read_bytes()[:100])

    healed = site()
    assert healed.statuses() == ["ran"]
    assert "corrupt cache entry" in healed.log and "does not match its hash" in healed.log
    assert whole(blob)
    assert snapshot([entry]) == before  # only seconds changed: the entry is left alone

    again = site()
    assert again.statuses() == ["cached"], again.log
    assert "corrupt" not in again.log
    frozen = site(settings={"FENCES_MODE": "frozen", "FENCES_STRICT": True})
    assert frozen.returncode == 0, frozen.log
    assert frozen.statuses() == ["cached"]


def test_edited_inline_text_is_a_miss_then_fixed(site):
    post = {"posts/t.md": "Title: T\nDate: 2026-04-03\n\n```python exec\nprint(41 + 1)\n```\n"}
    site(post)
    (entry,) = entries(site().cache)
    record = json.loads(entry.read_text())
    assert record["outputs"][0]["text"] == "42\n"
    record["outputs"][0]["text"] = "43\n"  # valid JSON, wrong content
    entry.write_text(json.dumps(record))

    edited = site()
    assert edited.statuses() == ["ran"]
    assert re.search(rf"{re.escape(str(entry.name))}: warning: corrupt cache entry", edited.log)
    assert "checksum" in edited.log
    assert edited.post("t").select_one("pre.fence-stdout").text == "42\n"
    fixed = json.loads(entry.read_text())
    assert fixed["outputs"][0]["text"] == "42\n" and fixed["checksum"] == checksum(fixed)

    again = site()
    assert again.statuses() == ["cached"]
    assert again.post("t").select_one("pre.fence-stdout").text == "42\n"


def test_rerun_leaves_entries_and_blobs_byte_identical(site):
    first = site({"posts/mixed.md": MIXED})
    assert first.statuses() == ["ran"] * 3
    stored = entries(first.cache) + blobs(first.cache)
    assert len(stored) == 5
    before = snapshot(stored)

    rerun = site(settings={"FENCES_MODE": "rerun"})
    assert rerun.statuses() == ["ran"] * 3
    assert entries(rerun.cache) + blobs(rerun.cache) == stored
    assert snapshot(stored) == before  # same bytes, same mtime


def test_a_damaged_output_figure_is_rewritten(site):
    keep = {"DELETE_OUTPUT_DIRECTORY": False}
    first = site({"posts/figure.md": FIGURE}, settings=keep)
    (figure,) = [p for p in (first.output / "fences").glob("*.svg") if ".dark-" not in p.name]
    good = figure.read_bytes()
    figure.write_bytes(good[:-50] + b"x" * 50)  # same size, other bytes

    same_size = site(settings=keep)
    assert same_size.statuses() == ["cached"]
    assert figure.read_bytes() == good

    figure.write_bytes(good[:200])
    truncated = site(settings=keep)
    assert truncated.statuses() == ["cached"]
    assert figure.read_bytes() == good


# --- the Cache class against a real folder ---------------------------------------------------


def result(text: str = "hello\n", figure: bytes = b"<svg>" + b"0" * 300 + b"</svg>",
           seconds: float = 0.5) -> FenceResult:
    return FenceResult("ran", [Output("text/plain", text, {}),
                               Output("image/png", figure, {"figure": True})],
                       seconds=seconds, backend={"name": "numpy", "label": "NumPy"})


KEY_A, KEY_B, KEY_C, KEY_D = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)


def test_put_heals_a_damaged_blob_and_keeps_an_entry_that_differs_only_in_seconds(tmp_path):
    cache = Cache(tmp_path)
    cache.put(KEY_A, "python", result())
    (blob,) = blobs(tmp_path)
    (entry,) = entries(tmp_path)
    before = snapshot([entry])
    blob.write_bytes(b"<svg>")
    assert cache.get(KEY_A) is None

    cache.put(KEY_A, "python", result(seconds=1.25))
    assert whole(blob)
    assert snapshot([entry]) == before
    hit = cache.get(KEY_A)
    assert hit is not None and hit.seconds == 0.5
    assert hit.outputs[1].data == result().outputs[1].data

    cache.put(KEY_A, "python", result(text="changed\n"))  # a real change is written
    assert cache.get(KEY_A).outputs[0].data == "changed\n"


def test_entries_of_an_older_format_are_misses(tmp_path):
    cache = Cache(tmp_path)
    cache.put(KEY_A, "python", result())
    (entry,) = entries(tmp_path)
    record = json.loads(entry.read_text())
    record["format"] = 1
    entry.write_text(json.dumps(record))
    assert cache.get(KEY_A) is None
    cache.put(KEY_A, "python", result())
    assert cache.get(KEY_A) is not None


def test_prune_drops_damaged_entries_and_blobs(tmp_path):
    cache = Cache(tmp_path)
    for i, key in enumerate((KEY_A, KEY_B, KEY_C, KEY_D)):
        cache.put(key, "python", result(text=f"{i}\n", figure=f"<svg>{i}".encode() * 100))
    paths = {key: cache._entry_path(key) for key in (KEY_A, KEY_B, KEY_C, KEY_D)}
    digest = {key: json.loads(p.read_text())["outputs"][1]["blob"] for key, p in paths.items()}
    cache._blob_path(digest[KEY_A]).write_bytes(b"<svg>trunc")  # a damaged blob
    cache._blob_path(digest[KEY_B]).unlink()  # a missing blob
    record = json.loads(paths[KEY_C].read_text())
    record["outputs"][0]["text"] = "edited\n"  # a bad checksum
    paths[KEY_C].write_text(json.dumps(record))
    stray = tmp_path / "blobs" / "ee" / ("e" * 64)  # a blob not matching its name
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"anything")

    stats = cache.prune([KEY_A, KEY_B, KEY_C, KEY_D])
    assert (stats.kept, stats.entries, stats.blobs) == (1, 3, 3)
    assert entries(tmp_path) == [paths[KEY_D]]
    assert [p.name for p in blobs(tmp_path)] == [digest[KEY_D]]
    assert cache.get(KEY_D) is not None


# --- derived files (variants/, highlight/, notebooks/, mathkit/) ----------------------------


def test_derived_files_carry_a_checksum_of_their_name_and_bytes(tmp_path, capsys):
    path = tmp_path / "variants" / "abc.dark-1.svg"
    assert read_derived(path) is None  # none yet: a plain miss
    assert keep_derived(path, b"<svg>dark</svg>")
    data = path.read_bytes()
    assert data.startswith(b"execblog-derived/1 sha256=") and data.endswith(b"\n<svg>dark</svg>")
    assert mode(path) == 0o666 & ~_umask()
    assert unseal(path.name, data) == b"<svg>dark</svg>" == read_derived(path)
    assert keep_derived(tmp_path / "empty", b"") and read_derived(tmp_path / "empty") == b""
    assert capsys.readouterr().err == ""

    before = snapshot([path])
    os.utime(path, (1, 1))
    assert keep_derived(path, b"<svg>dark</svg>")  # the same: not rewritten, marked used
    assert path.read_bytes() == before[path][0] and path.stat().st_mtime > 1

    for damaged in (data[:-3], data + b"<script>", b"<svg>dark</svg>", data.replace(b"=", b"-"),
                    b"", data[:40]):
        path.write_bytes(damaged)
        assert read_derived(path) is None
        err = capsys.readouterr().err
        assert f"{path.name}: warning: corrupt derived file in the fence cache (" in err, err
    path.write_bytes(seal("other.dark-1.svg", b"<svg>dark</svg>"))  # sound, but not this one
    assert read_derived(path) is None and "checksum mismatch" in capsys.readouterr().err
    with pytest.raises(DerivedFileError):
        unseal(path.name, path.read_bytes())


def test_a_derived_file_that_fails_its_content_check_is_a_miss(tmp_path, capsys):
    path = tmp_path / "f.woff2"
    keep_derived(path, b"garbage")

    def check(data: bytes) -> None:
        if not data.startswith(b"wOF2"):
            raise ValueError("not a WOFF2 font")

    assert read_derived(path, check) is None
    assert "f.woff2: warning: corrupt derived file in the fence cache (not a WOFF2 font)" in (
        capsys.readouterr().err)
    assert not trusts_derived({"FENCES_MODE": "rerun"})
    assert trusts_derived({"FENCES_MODE": "frozen"}) and trusts_derived(None)


def test_keep_derived_says_when_the_cache_cannot_be_written(unwritable):
    assert not keep_derived(unwritable / "variants" / "x.svg", b"<svg/>")
    assert read_derived(unwritable / "variants" / "x.svg") is None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# --- writes that fail ------------------------------------------------------------------------


@pytest.fixture
def unwritable(tmp_path):
    """A folder path nothing can be written under: read-only, or (for root, whom chmod does
    not stop) below a regular file."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        yield blocker / "sub"
    else:
        yield folder / "sub"
    folder.chmod(0o755)


def test_put_raises_cache_write_error_when_the_cache_cannot_be_written(unwritable):
    cache = Cache(unwritable)
    with pytest.raises(CacheWriteError) as caught:
        cache.put(KEY_A, "python", result())
    assert isinstance(caught.value, OSError)
    assert caught.value.path.is_relative_to(unwritable) and caught.value.reason
    assert str(caught.value.path) in str(caught.value)
    assert cache.get(KEY_A) is None


def test_write_report_falls_back_to_the_temporary_folder(unwritable, capsys):
    report = {"fences": [], "summary": {"total": 0}}
    wanted = unwritable / "report.json"
    written = write_report(report, wanted)
    try:
        assert written != wanted and not wanted.exists()
        assert written.parent == Path(tempfile.gettempdir())
        assert json.loads(written.read_text()) == report
        warning = capsys.readouterr().err
        assert f"{wanted}: warning: cannot write the report" in warning and str(written) in warning
        assert write_report(report, wanted) == written  # the same place every time
    finally:
        written.unlink(missing_ok=True)


def test_write_report_returns_the_path_it_wrote(tmp_path):
    path = tmp_path / "deep" / "report.json"
    assert write_report({"fences": []}, path) == path
    assert json.loads(path.read_text()) == {"fences": []}


# --- the report's slowest fences -------------------------------------------------------------


def test_slowest_lists_only_what_ran_in_this_build(site):
    post = {"posts/s.md": """
        Title: Slow
        Date: 2026-04-04

        ```python exec
        import time
        time.sleep(0.4)  # well ahead of the next one, even on a loaded machine
        ```

        ```python exec error=true
        time.sleep(0.03)
        raise ValueError("on purpose")
        ```
        """}
    cold = site(post)
    assert cold.statuses() == ["ran", "expected-error"]
    slowest = cold.report["summary"]["slowest"]
    assert [s["location"] for s in slowest] == ["posts/s.md:4", "posts/s.md:9"]
    assert "; slowest: " in cold.log

    warm = site()
    assert warm.statuses() == ["cached", "cached"]
    assert warm.report["summary"]["slowest"] == []
    assert "; slowest: " not in warm.log
