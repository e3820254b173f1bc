"""The ``bash exec`` fence kind (``sh exec`` too): real Pelican builds, pages and report."""

from __future__ import annotations

import os
import shutil
import textwrap

from conftest import run_pelican

HEADER = "Title: {title}\nDate: 2026-05-10\n\n"


def post(title: str, body: str) -> str:
    return HEADER.format(title=title) + textwrap.dedent(body).lstrip("\n")


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line of ``text`` that is ``needle`` (spaces aside)."""
    return next(i for i, row in enumerate(text.splitlines(), 1) if row.strip() == needle)


def outputs(build, slug: str) -> list[str]:
    """The text of each fence's outputs on the page, in order."""
    fences = build.post(slug).select("div.fence")
    return [out.get_text() if (out := f.select_one(".fence-outputs")) else "" for f in fences]


OK = post("Ok", """
    ```bash exec
    echo "hello from bash"
    sh -c 'echo "from a child process"'
    echo "to stderr" >&2
    cat data.txt
    pwd > where.txt
    echo ran >> runs.txt
    ```

    ```bash exec
    where=$(basename "$PWD")
    shared="set in the first"
    echo "in $where as $0"
    ```

    ```sh exec
    #| echo: false
    echo "sh fence: shared=${shared:-unset}"
    ```

    ```bash exec error=true
    echo "about to fail"
    false
    ```

    ```bash exec
    echo "after the expected error"
    ```
    """)


def test_output_cwd_expected_errors_and_a_warm_rebuild(site, tmp_path):
    files = {"posts/ok/ok.md": OK, "posts/ok/data.txt": "data next to the post\n"}
    first = site(files)
    assert first.returncode == 0, first.log
    assert first.statuses() == ["ran", "ran", "ran", "expected-error", "ran"], first.log
    shown = outputs(first, "ok")
    assert "hello from bash" in shown[0] and "from a child process" in shown[0]
    stderr = first.post("ok").select("div.fence")[0].select(".fence-stderr")
    assert [s.get_text() for s in stderr] == ["to stderr\n"]
    assert "data next to the post" in shown[0]
    assert (first.content / "posts/ok/where.txt").read_text().strip() == str(
        (first.content / "posts/ok").resolve())
    assert "in ok as posts/ok/ok.md" in shown[1]  # cwd is the post folder; $0 its path
    assert "sh fence: shared=unset" in shown[2]  # sh is bash; a fresh process per fence
    error_line = line_of(OK, "false")
    assert first.report["fences"][3]["line"] == line_of(OK, "```bash exec error=true")
    assert "about to fail" in shown[3], shown
    assert f"posts/ok/ok.md:{error_line}" in shown[3]  # the error block says where
    assert f"command at line {error_line} failed with exit status 1" in shown[3]
    assert "after the expected error" in shown[4]  # an expected error skips nothing
    assert "error:" not in first.log
    label = first.post("ok").select_one('.fence-backend[data-backend="bash"]')
    assert label is not None and label.get_text().startswith("bash ")

    # warm: everything comes from the cache, nothing runs, and error=true keeps a strict
    # build green
    again = site(settings={"FENCES_STRICT": True})
    assert again.returncode == 0, again.log
    assert again.statuses() == ["cached"] * 5, again.log
    assert (first.content / "posts/ok/runs.txt").read_text() == "ran\n"
    assert "hello from bash" in outputs(again, "ok")[0]

    # another bash (another path: another toolchain identity) re-runs the cached results
    other = tmp_path / "otherbash"
    other.mkdir()
    wrapper = other / "bash"
    real = os.path.realpath(shutil.which("bash") or "/bin/bash")
    wrapper.write_text(f'#!/bin/sh\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    proc = run_pelican(first.content, first.output,
                       settings={"FENCES_CACHE_PATH": str(first.cache)},
                       env={"PATH": f"{other}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert first.statuses() == ["ran", "ran", "ran", "expected-error", "ran"]
    assert (first.content / "posts/ok/runs.txt").read_text() == "ran\nran\n"


def failing(title: str, bad: str) -> str:
    return post(title, f"""
        ```bash exec
        echo "before"
        {bad}
        echo "after"
        ```

        ```bash exec
        echo "never runs"
        ```

        ```python exec
        print("python still runs")
        ```
        """)


FAILURES = {
    "plain": ("false", "failed with exit status 1"),
    "grep": ('echo "abc" | grep -q xyz', "failed with exit status 1"),
    "unbound": ('echo "value: $not_set_anywhere"', "not_set_anywhere: unbound variable"),
    "missing": ("no_such_command_here --flag", "no_such_command_here: command not found"),
    "required": ('echo "${name:?is required}"', "name: is required"),
    "syntax": ("done", "syntax error near unexpected token"),
}

NESTED = post("Nested", """
    ```bash exec
    check() {
      test -f missing-file.txt
    }
    echo "calling"
    check
    ```
    """)


def test_failures_are_located_skip_later_bash_and_fail_a_strict_build(site):
    files = {f"posts/{slug}/{slug}.md": failing(slug, bad)
             for slug, (bad, _) in FAILURES.items()}
    files["posts/nested/nested.md"] = NESTED
    build = site(files)
    assert build.returncode == 0, build.log
    for slug, (bad, message) in FAILURES.items():
        source = f"posts/{slug}/{slug}.md"
        text = files[source]
        line = line_of(text, bad)
        fences = [f for f in build.report["fences"] if f["source"] == source]
        assert [f["status"] for f in fences] == ["failed", "skipped", "ran"], (slug, build.log)
        assert fences[0]["line"] == line, (slug, fences[0])
        assert message in fences[0]["message"], (slug, fences[0])
        assert f"content/{source}:{line}: error: " in build.log, (slug, build.log)
        shown = outputs(build, slug)
        assert "before" in shown[0] and "after" not in shown[0], shown
        assert f"{source}:{line}" in shown[0]  # the page's error block says where
        assert "python still runs" in shown[2]
    nested = [f for f in build.report["fences"] if f["source"] == "posts/nested/nested.md"]
    assert nested[0]["status"] == "failed"
    # located inside the function, not at its call
    assert nested[0]["line"] == line_of(NESTED, "test -f missing-file.txt"), nested
    assert "calling" in outputs(build, "nested")[0]

    # failures are never cached: a strict build runs them again and exits non-zero
    strict = site(settings={"FENCES_STRICT": True})
    assert strict.returncode != 0, strict.log
    assert "fence(s) failed (strict mode)" in strict.log
    assert f"content/posts/plain/plain.md:{line_of(files['posts/plain/plain.md'], 'false')}" \
        in strict.log.splitlines()[-1]
