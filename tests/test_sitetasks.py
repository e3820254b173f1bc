"""Unit tests of the site-tasks logic (plugins/execblog/sitetasks) on real temporary folders.

Fast: no Pelican build runs here; tests/test_tasks.py drives the same code through invoke.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import write_files
from execblog.engine.cache import Cache
from execblog.engine.model import FenceResult, Output
from execblog.sitetasks import publishing, targets
from execblog.sitetasks.pelican_cli import fence_mode, parse_overrides, pelican_command, run_pelican
from invoke.exceptions import Exit

from tools.perf import write_site

GIT_ENV = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"}


def tree(folder: Path) -> dict[str, str | None]:
    """Every file (text) and folder (None) under folder, by relative path."""
    return {str(p.relative_to(folder)): (p.read_text() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def siblings(target: Path) -> list[str]:
    """Staging or set-aside folders left next to target."""
    return sorted(p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}."))


# --- pelican_cli ---------------------------------------------------------------------------


def test_pelican_command_puts_every_override_in_one_e_as_json(tmp_path):
    cmd = pelican_command(tmp_path / "c", tmp_path / "o", tmp_path / "conf.py",
                          {"A": "x y", "B": None, "C": [1, "2"], "D": True})
    assert cmd[:3] == [sys.executable, "-m", "pelican"]
    assert cmd[3:8] == [str(tmp_path / "c"), "-s", str(tmp_path / "conf.py"), "-o",
                        str(tmp_path / "o")]
    assert cmd.count("-e") == 1
    assert cmd[cmd.index("-e") + 1:] == ['A="x y"', "B=null", 'C=[1, "2"]', "D=true"]
    assert "-e" not in pelican_command("c", "o", "conf.py")
    assert "-e" not in pelican_command("c", "o", "conf.py", {})


def test_parse_overrides_reads_json_and_keeps_bare_words_as_strings():
    assert parse_overrides(["A=1", "B=/a/path", 'C=["x"]', " D =null", "E=a=b"]) == {
        "A": 1, "B": "/a/path", "C": ["x"], "D": None, "E": "a=b"}
    assert parse_overrides(None) == {}
    for bad in ("novalue", "=1"):
        with pytest.raises(Exit) as info:
            parse_overrides([bad])
        assert info.value.code == 2 and "KEY=VALUE" in info.value.message


def test_fence_mode():
    assert fence_mode(False, False) == {}
    assert fence_mode(True, False) == {"FENCES_MODE": "frozen"}
    assert fence_mode(False, True) == {"FENCES_MODE": "rerun"}
    with pytest.raises(Exit) as info:
        fence_mode(True, True)
    assert info.value.code == 2


def test_run_pelican_refuses_a_missing_content_folder(tmp_path):
    with pytest.raises(Exit, match="content folder not found") as info:
        run_pelican(tmp_path / "conf.py", tmp_path / "nope", tmp_path / "out", {}, tmp_path)
    assert info.value.code == 1 and not (tmp_path / "out").exists()


# --- staging and swapping ------------------------------------------------------------------


def test_staging_dir_is_empty_readable_and_next_to_the_target(tmp_path):
    target = tmp_path / "site" / "output"
    staging = publishing.staging_dir(target, "new")
    assert staging.parent == target.parent and staging.name.startswith(".output.new-")
    assert list(staging.iterdir()) == []
    assert stat.S_IMODE(staging.stat().st_mode) == 0o755
    assert publishing.staging_dir(target, "new") != staging


def test_replace_dir_swaps_the_whole_folder_and_leaves_nothing(tmp_path):
    target, new = tmp_path / "out", tmp_path / "new"
    write_files(target, {"old.html": "old", "sub/x.html": "x"})
    write_files(new, {"index.html": "new"})
    publishing.replace_dir(new, target)
    assert tree(target) == {"index.html": "new"}
    assert not new.exists() and siblings(target) == []


def test_replace_dir_creates_a_missing_target(tmp_path):
    write_files(tmp_path / "new", {"a.txt": "a"})
    publishing.replace_dir(tmp_path / "new", tmp_path / "out")
    assert tree(tmp_path / "out") == {"a.txt": "a"}


def test_replace_dir_puts_the_old_folder_back_when_the_new_one_cannot_move(tmp_path):
    target = tmp_path / "out"
    write_files(target, {"old.html": "old"})
    with pytest.raises(OSError):
        publishing.replace_dir(tmp_path / "missing", target)
    assert tree(target) == {"old.html": "old"} and siblings(target) == []


def test_replace_dir_exchanges_the_folders_in_one_step(tmp_path):
    """Where renameat2(RENAME_EXCHANGE) works (Linux), the new folder itself becomes the
    target (same inode) and no rename pair ever runs."""
    target, new = tmp_path / "out", tmp_path / "new"
    write_files(target, {"old.html": "old"})
    write_files(new, {"index.html": "new"})
    if publishing._renameat2() is None:
        pytest.skip("no renameat2 here")
    inode = new.stat().st_ino
    assert publishing.exchange(new, target)
    assert target.stat().st_ino == inode and tree(new) == {"old.html": "old"}
    publishing.exchange(new, target)  # and back
    publishing.replace_dir(new, target)
    assert target.stat().st_ino == inode and tree(target) == {"index.html": "new"}
    assert not new.exists() and siblings(target) == []


def test_swap_in_leaves_the_old_folder_at_the_new_ones_name(tmp_path):
    target, new = tmp_path / "out", tmp_path / "new"
    write_files(target, {"old.html": "old"})
    write_files(new, {"index.html": "new"})
    publishing.swap_in(new, target)
    assert tree(target) == {"index.html": "new"} and tree(new) == {"old.html": "old"}
    publishing.swap_in(tmp_path / "new", tmp_path / "fresh")  # no target: a plain rename
    assert tree(tmp_path / "fresh") == {"old.html": "old"} and not new.exists()


def test_without_exchange_the_rename_pair_says_so(tmp_path, monkeypatch, capsys):
    """A kernel or filesystem that cannot exchange: the old folder is renamed aside and the
    new one in, and a note says the target is missing for a moment."""
    monkeypatch.setattr(publishing, "_renameat2", lambda: None)
    monkeypatch.setattr(publishing, "_noted", set())
    target, new = tmp_path / "out", tmp_path / "new"
    write_files(target, {"old.html": "old"})
    write_files(new, {"index.html": "new"})
    assert not publishing.exchange(new, target)
    publishing.swap_in(new, target)
    assert tree(target) == {"index.html": "new"} and tree(new) == {"old.html": "old"}
    assert "cannot exchange two folders in one step" in capsys.readouterr().err
    with pytest.raises(OSError):
        publishing.swap_in(tmp_path / "missing", target)
    assert tree(target) == {"index.html": "new"} and siblings(target) == []


def test_an_exchange_error_other_than_unsupported_raises(tmp_path):
    if publishing._renameat2() is None:
        pytest.skip("no renameat2 here")
    write_files(tmp_path / "out", {"a": "a"})
    with pytest.raises(FileNotFoundError):
        publishing.exchange(tmp_path / "missing", tmp_path / "out")


def test_staged_holds_its_folder_and_removes_it(tmp_path):
    target = tmp_path / "site" / "output"
    with publishing.staged(target) as staging:
        write_files(staging, {"index.html": "x"})
        assert publishing.clean_leftovers(target) == []  # held: not a leftover
        assert staging.is_dir()
    assert not staging.exists() and siblings(target) == []


def test_clean_leftovers_removes_only_unheld_staging_and_aside_folders(tmp_path):
    target = tmp_path / "deploy"
    names = [".deploy.new-a", ".deploy.old-b", ".deploy.new-held", ".deploy.other-c",
             ".deployed.new-d"]
    for name in names:
        write_files(tmp_path / name, {"f/x.html": "x"})
    write_files(tmp_path, {".deploy.old-file": "a file, not a folder"})
    held = os.open(tmp_path / ".deploy.new-held", os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        assert publishing.clean_leftovers(target) == [".deploy.new-a", ".deploy.old-b"]
    finally:
        os.close(held)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".deploy.new-held", ".deploy.old-file", ".deploy.other-c", ".deployed.new-d"]
    assert publishing.clean_leftovers(target) == [".deploy.new-held"]  # released now
    assert publishing.clean_leftovers(tmp_path / "missing" / "out") == []


def test_site_lock_makes_a_second_holder_wait_and_says_whose_it_is(tmp_path, capsys):
    lock = tmp_path / "cache" / "publish.lock"
    order: list[str] = []
    with publishing.site_lock(lock):
        assert lock.read_text() == f"{os.getpid()}\n"

        def second() -> None:
            with publishing.site_lock(lock):
                order.append("second")

        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 10
        while "another publish" not in capsys.readouterr().err:
            assert time.monotonic() < deadline, "the second holder never said it waits"
            time.sleep(0.02)
        order.append("first")
    thread.join(timeout=10)
    assert order == ["first", "second"] and lock.read_text() == ""


def test_site_lock_message_names_the_holder(tmp_path):
    lock = tmp_path / "publish.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "sys.path.insert(0, sys.argv[2])\n"
         "from pathlib import Path\n"
         "from execblog.sitetasks.publishing import site_lock\n"
         "with site_lock(Path(sys.argv[1])):\n"
         "    print('held', flush=True)\n"
         "    time.sleep(60)\n", str(lock), str(Path(publishing.__file__).parents[2])],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        waiter = subprocess.Popen(
            [sys.executable, "-c", "import sys\n"
             "sys.path.insert(0, sys.argv[2])\n"
             "from pathlib import Path\n"
             "from execblog.sitetasks.publishing import site_lock\n"
             "with site_lock(Path(sys.argv[1])):\n"
             "    pass\n", str(lock), str(Path(publishing.__file__).parents[2])],
            stderr=subprocess.PIPE, text=True)
        line = waiter.stderr.readline()
        assert line == (f"another publish of this site is running (pid {holder.pid}); "
                        "waiting for it to finish\n")
        assert waiter.poll() is None  # waiting
        holder.send_signal(signal.SIGKILL)  # a dead holder's lock is free at once
        assert waiter.wait(timeout=30) == 0
    finally:
        holder.kill()
        holder.wait()


SIGNALS_HELD = """
import os, signal, sys, time
sys.path.insert(0, sys.argv[1])
from execblog.sitetasks.publishing import signals_held
done = []
try:
    with signals_held():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        done.append("block")
except KeyboardInterrupt:
    print("interrupted after", done)
"""


def test_signals_held_delays_a_signal_until_the_block_ends():
    """In a process of its own: signals reach Python's main thread only."""
    proc = subprocess.run([sys.executable, "-c", SIGNALS_HELD,
                           str(Path(publishing.__file__).parents[2])],
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout == "interrupted after ['block']\n", proc.stdout + proc.stderr


def test_deploy_directory_replaces_the_target_with_a_copy(tmp_path, capsys):
    site, deploy = tmp_path / "site", tmp_path / "deploy"
    write_files(site, {"index.html": "new", "posts/a/index.html": "a"})
    write_files(deploy, {"stale.html": "stale"})
    publishing.deploy_directory(site, deploy)
    assert tree(deploy) == tree(site)
    assert siblings(deploy) == [] and tree(site)["index.html"] == "new"
    assert f"Deployed to {deploy}" in capsys.readouterr().out


def test_check_method(tmp_path):
    out = tmp_path / "site" / "output"
    targets.check_method("directory", tmp_path / "deploy", out)
    targets.check_method("ghp-import", out.parent, out)  # the folder is not used
    for method, target, words in (("ftp", tmp_path / "d", "unknown deploy method 'ftp'"),
                                  ("directory", out, "would contain the output folder"),
                                  ("directory", out.parent, "would contain the output folder"),
                                  ("rsync", out.parent, "DEPLOY_RSYNC_TARGET .* would contain")):
        with pytest.raises(Exit, match=words) as info:
            targets.check_method(method, target, out)
        assert info.value.code == 2


@pytest.mark.parametrize("value", ["", None, "/blog", "example.org", "ftp://example.org",
                                   "https://"])
def test_require_siteurl_refuses_what_is_not_an_absolute_http_url(tmp_path, value):
    conf = tmp_path / "publishconf.py"
    with pytest.raises(Exit) as info:
        targets.require_siteurl({"SITEURL": value} if value is not None else {}, conf)
    assert info.value.code == 2
    message = info.value.message
    assert message.startswith("not publishing: SITEURL is " + (
        "empty." if not value else f"{value!r}, not an absolute http(s) URL."))
    assert f"Set it in {conf} " in message and "--set SITEURL=" in message


def test_require_siteurl_accepts_an_absolute_url():
    assert targets.require_siteurl({"SITEURL": "https://a.org/blog"}, Path("c.py")) == \
        "https://a.org/blog"


def git_repo(path: Path, remote: str | None = None) -> Path:
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(path), "remote", "add", remote, str(path)], check=True)
    return path


def test_deploy_target_resolves_each_method(tmp_path, monkeypatch):
    root, conf, out = tmp_path / "blog", tmp_path / "blog/publishconf.py", tmp_path / "blog/out"
    git_repo(root, remote="upstream")
    monkeypatch.chdir(tmp_path)
    target = targets.deploy_target  # (settings, conf, root, output, options)
    options = targets.DeployOptions
    ghp = target({"DEPLOY_METHOD": "ghp-import", "DEPLOY_REMOTE": "upstream",
                  "DEPLOY_PUSH": True}, conf, root, out, options())
    assert (ghp.repository, ghp.branch, ghp.remote, ghp.push) == (root, "gh-pages",
                                                                  "upstream", True)
    folder = target({"DEPLOY_METHOD": "directory", "DEPLOY_DIRECTORY": "www"}, conf, root,
                    out, options())
    assert folder.directory == root / "www"  # a setting: relative to the blog
    cli = target({}, conf, root, out, options(method="directory", directory="www"))
    assert cli.directory == tmp_path / "www"  # an option: relative to the working directory
    if shutil.which("rsync"):
        rsync = target({"DEPLOY_METHOD": "rsync", "DEPLOY_RSYNC_TARGET": "me@host:/srv/"},
                       conf, root, out, options())
        assert rsync.rsync == "me@host:/srv/" and "me@host:/srv/ is unchanged" in \
            rsync.unchanged()


@pytest.mark.parametrize("settings, options, words", [
    ({}, {}, 'DEPLOY_METHOD is not set: set it in {conf} (DEPLOY_METHOD = "ghp-import", '
             '"directory" or "rsync") or pass --method'),
    ({"DEPLOY_METHOD": "ftp"}, {}, "unknown deploy method 'ftp'; choose one of ghp-import, "
                                   "directory, rsync"),
    ({"DEPLOY_METHOD": "directory", "DEPLOY_DIRECTORY": ""}, {},
     "DEPLOY_DIRECTORY is not set: set it in {conf}"),
    ({"DEPLOY_METHOD": "rsync"}, {}, "DEPLOY_RSYNC_TARGET is not set: set it in {conf}"),
    ({"DEPLOY_METHOD": "directory"}, {"directory": "{root}"},
     "DEPLOY_DIRECTORY {root} would contain the output folder"),
    ({"DEPLOY_METHOD": "ghp-import", "DEPLOY_REPOSITORY": "{tmp}/nogit"}, {},
     "DEPLOY_REPOSITORY {tmp}/nogit is not a git repository (run `git init` there"),
    ({"DEPLOY_METHOD": "ghp-import", "DEPLOY_PUSH": True}, {},
     "DEPLOY_REMOTE 'origin' is not a remote of {root} (git remote add origin URL)"),
])
def test_deploy_target_names_what_is_missing(tmp_path, settings, options, words):
    root = git_repo(tmp_path / "blog")
    (tmp_path / "nogit").mkdir()
    conf, out = root / "publishconf.py", root / "output"

    def fill(value):
        return value.format(conf=conf, root=root, tmp=tmp_path) if isinstance(value, str) \
            else value

    with pytest.raises(Exit) as info:
        targets.deploy_target({k: fill(v) for k, v in settings.items()}, conf, root, out,
                                 targets.DeployOptions(**{k: fill(v)
                                                             for k, v in options.items()}))
    assert info.value.code == 2
    assert fill(words) in info.value.message


def test_rsync_local_path_tells_local_folders_from_remote_targets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert targets.rsync_local_path("www/") == tmp_path / "www"
    assert targets.rsync_local_path("/srv/www/") == Path("/srv/www")
    assert targets.rsync_local_path("./a:b") == tmp_path / "a:b"
    for remote in ("me@host:/srv/www/", "host:www", "rsync://host/module/"):
        assert targets.rsync_local_path(remote) is None, remote


def test_resolve_makes_relative_paths_absolute_from_the_working_directory(tmp_path,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert targets.resolve("a/b", Path("/default")) == tmp_path / "a/b"
    assert targets.resolve(None, Path("/default")) == Path("/default")


# --- verify_build --------------------------------------------------------------------------


def records(root: Path, build: dict | None, report: dict | None) -> dict:
    """Write the build record and fence report of a pretend build; return its settings."""
    cache = root / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    if build is not None:
        (cache / "build.json").write_text(json.dumps(build))
    if report is not None:
        (cache / "report.json").write_text(json.dumps(report))
    return {"FENCES_CACHE_PATH": "cache", "FENCES_REPORT": None}  # relative to root


FINISHED = {"build_id": "b1", "complete": True, "missing": []}


def test_verify_build_accepts_this_builds_complete_record(tmp_path):
    publishing.verify_build(records(tmp_path, FINISHED, {"build_id": "b1", "fences": []}),
                            "b1", tmp_path)
    publishing.verify_build(records(tmp_path / "nofences", FINISHED, None), "b1",
                            tmp_path / "nofences")


@pytest.mark.parametrize("build, report, words", [
    (None, None, r"did not finish \(.*build\.json is missing\)"),
    ({**FINISHED, "build_id": "b0"}, None, "is from build 'b0', not this build 'b1'"),
    ({**FINISHED, "complete": False}, None, "does not say the build completed"),
    ({**FINISHED, "missing": ["a.html", "b.html"]}, None,
     "pages missing from the output: a.html, b.html"),
    (FINISHED, {"build_id": "b0", "fences": []}, "fence report .* is from build 'b0'"),
])
def test_verify_build_refuses(tmp_path, build, report, words):
    settings = records(tmp_path, build, report)
    with pytest.raises(Exit, match=f"not publishing: .*{words}") as info:
        publishing.verify_build(settings, "b1", tmp_path)
    assert info.value.code == 1


def test_verify_build_refuses_unreadable_records(tmp_path):
    settings = records(tmp_path, None, None)
    (tmp_path / "cache/build.json").write_text("{not json")
    with pytest.raises(Exit, match="cannot read the build record"):
        publishing.verify_build(settings, "b1", tmp_path)
    records(tmp_path, FINISHED, None)
    (tmp_path / "cache/report.json").write_text("[")
    with pytest.raises(Exit, match="cannot read the fence report"):
        publishing.verify_build(settings, "b1", tmp_path)


# --- prune and ghp-import ------------------------------------------------------------------


def test_prune_cache_keeps_the_entries_the_report_lists(tmp_path):
    cache = Cache(tmp_path / "cache")
    for key, payload in (("kept", b"\x89PNG kept"), ("dropped", b"\x89PNG dropped")):
        cache.put(key, "python", FenceResult("ran", [Output("image/png", payload)]))
    settings = records(tmp_path, None, {"fences": [{"key": "kept"}]})
    line = publishing.prune_cache(settings, tmp_path)
    assert line.startswith("prune: kept 1 entries; removed 1 entries and 1 blobs")
    assert line.endswith(f"from {tmp_path / 'cache'}")
    assert Cache(tmp_path / "cache").get("kept") is not None
    assert Cache(tmp_path / "cache").get("dropped") is None


def test_deploy_ghp_import_commits_the_site_to_the_branch(tmp_path, monkeypatch, capsys):
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write_files(tmp_path / "site", {"index.html": "hello", "posts/a/index.html": "a"})
    publishing.deploy_ghp_import(tmp_path / "site", repo, "site", "origin", push=False)
    files = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "--name-only", "site"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert sorted(files) == [".nojekyll", "index.html", "posts/a/index.html"]
    assert f"Deployed to branch site of {repo}" in capsys.readouterr().out
    assert os.getcwd() != str(repo)  # the working directory is given back


def test_deploy_ghp_import_outside_a_repository_fails_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never a repo above
    write_files(tmp_path / "site", {"index.html": "hello"})
    (tmp_path / "norepo").mkdir()
    with pytest.raises(Exit, match="ghp-import|no commit") as info:
        publishing.deploy_ghp_import(tmp_path / "site", tmp_path / "norepo", "site", "origin",
                                     push=False)
    assert info.value.code == 1


# --- bench ---------------------------------------------------------------------------------


def test_bench_site_has_exec_or_plain_fences(tmp_path):
    write_site(tmp_path / "exec", 3)
    write_site(tmp_path / "plain", 3, exec_word="")
    posts = sorted((tmp_path / "exec/posts").iterdir())
    assert [p.name for p in posts] == ["post-000.md", "post-001.md", "post-002.md"]
    text = posts[1].read_text()
    assert text.startswith("Title: Post 1\n") and text.count("```python exec\n") == 5
    plain = (tmp_path / "plain/posts/post-001.md").read_text()
    assert "exec" not in plain and plain.count("```python\n") == 5


def test_the_bench_markdown_exec_reference_runs_fences_in_process(tmp_path, monkeypatch):
    """`invoke bench`'s in_process_site reference: fences run in one namespace per post, the
    source highlighted above what they print and the figures they draw."""
    import markdown

    monkeypatch.setenv("BENCH_FIGURES", str(tmp_path))
    text = ("```python exec\na = xp.arange(1001)\nprint(int(a.sum()))\n```\n\n"
            "```python exec\nimport matplotlib.pyplot as plt\nplt.plot(a)\n```\n")
    md = markdown.Markdown(extensions=["tools.inprocess_exec", "extra", "codehilite"])
    page = md.convert(text)
    assert "<pre>500500\n</pre>" in page
    assert page.count('class="codehilite"') == 2
    (figure,) = tmp_path.glob("*.svg")
    assert f'<img src="/figures/{figure.name}"' in page


# --- gallery (invoke bench --corpus) -------------------------------------------------------

EXAMPLE = '''\
"""
==============
Colour a curve
==============

Shows :func:`~matplotlib.pyplot.plot` with ``color``, costs $5.
"""
import matplotlib.pyplot as plt

# %%
# A first figure
# --------------
#
# One line.

plt.plot([0, 1], [0, 1], color="C1")

###############################################################################
# Then a second.
fig, ax = plt.subplots()
'''


def test_gallery_example_becomes_a_post_with_one_fence_per_cell(tmp_path: Path) -> None:
    from tools import gallery

    folder = tmp_path / "examples" / "color"
    write_files(folder, {"colour_curve.py": EXAMPLE.replace("import matplotlib.pyplot as plt",
                                                            "import shades, collections"),
                         "shades.py": '"""Shades\n======\n"""\nDARK = 1\n',
                         "collections.py": '"""Collections\n===========\n"""\n',
                         "sub/other.py": '"""Other\n=====\n"""\n1\n'})
    write_files(tmp_path / "examples" / "widgets", {"slider.py": '"""Slider"""\n'})
    doc, cells = gallery.cells(EXAMPLE)  # (the file written above imports two modules)
    assert doc.splitlines()[1] == "Colour a curve"
    assert [code.strip().splitlines()[0] for _, code in cells] == [
        "import matplotlib.pyplot as plt", 'plt.plot([0, 1], [0, 1], color="C1")',
        "fig, ax = plt.subplots()"]
    assert [prose.splitlines()[0] if prose else "" for prose, _ in cells] == [
        "", "A first figure", "Then a second."]

    count = gallery.write_site([tmp_path / "examples"], tmp_path / "content")
    assert count == 4  # widgets/ is interactive: left out
    post = (tmp_path / "content" / "posts" / "color" / "colour_curve.md").read_text()
    # a module the folder's examples import goes beside the posts; the others do not
    assert sorted(p.name for p in (tmp_path / "content/posts/color").glob("*.py")) == [
        "shades.py"]
    assert post.startswith("Title: Colour a curve\n")
    assert "Slug: gallery-color-colour_curve" in post
    assert "Shows `matplotlib.pyplot.plot` with `color`, costs \\$5." in post
    assert post.count("```python exec\n") == 3 and "=====" not in post
    plain = tmp_path / "plain"
    assert gallery.write_site([tmp_path / "examples"], plain, limit=2, exec_word="") == 2
    shown = (plain / "posts" / "color" / "colour_curve.md").read_text()
    assert "```python exec" not in shown and shown.count("```python\n") == 3


def test_site_tasks_find_the_checkout():
    """The tasks that work on the checkout (bench, preview bench, npm tools, GPU check, docs)
    find its root from their own place in it (tools/, which is not installed)."""
    from tools import docs, gpucheck, nodetools, perf, preview_bench

    for module in (docs, gpucheck, nodetools, perf, preview_bench):
        assert (module.ROOT / "pyproject.toml").is_file(), module.__name__
        assert (module.ROOT / "plugins" / "execblog").is_dir(), module.__name__


def test_deploy_target_rsync_needs_the_program(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no rsync on it
    with pytest.raises(Exit, match="DEPLOY_METHOD rsync needs the rsync program, which is "
                                   "not on PATH") as info:
        targets.deploy_target({"DEPLOY_METHOD": "rsync", "DEPLOY_RSYNC_TARGET": "h:/srv/"},
                                 tmp_path / "c.py", tmp_path, tmp_path / "out",
                                 targets.DeployOptions())
    assert info.value.code == 2
