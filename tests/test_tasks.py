"""The invoke tasks, through the real `invoke` CLI, run from outside the repository.

Every call passes its own content, output and fence-cache folders, so the repository's
own content, output/ and fence-cache/ are never touched; deploy targets are temporary git
repositories and folders.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, write_files

SITEURL = "https://example.github.io/execblog"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer", "GIT_COMMITTER_EMAIL": "committer@example.com",
}
ENV = dict(os.environ, **GIT_ENV, PYTHONUNBUFFERED="1", COLUMNS="400")

GOOD_POST = """
    Title: Matrix sums
    Date: 2026-03-01 10:00
    Tags: numerics

    Adding things up.

    ```python exec
    print(int(xp.arange(10).sum()))
    ```
    """
FIGURE_POST = ("Title: A figure\nDate: 2026-03-03 10:00\n\n```python exec alt='A line'\n"
               "import matplotlib.pyplot as plt\nplt.plot([0, 1])\n```\n")
BAD_POST = ("Title: Broken\nDate: 2026-03-02 10:00\n\n"
            "```python exec\nraise RuntimeError('boom')\n```\n")


def invoke(*args: str, cwd: Path, search_root: bool = False) -> subprocess.CompletedProcess:
    """Run the real invoke CLI on this repository's tasks.py, from `cwd`."""
    where = ["--search-root", str(ROOT)] if search_root else ["-r", str(ROOT)]
    return subprocess.run([sys.executable, "-m", "invoke", *where, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=ENV, umask=0o022)


def git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=ENV,
                          check=True)
    return proc.stdout.strip()


def branch_commit(repo: Path, branch: str) -> str | None:
    proc = subprocess.run(["git", "rev-parse", "--verify", "-q", f"refs/heads/{branch}"],
                          cwd=repo, capture_output=True, text=True, env=ENV)
    return proc.stdout.strip() or None


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (content) and folder (None) under folder, by relative path."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def leftovers(target: Path) -> list[str]:
    """Staging or set-aside folders that publish may have left next to target."""
    return sorted(p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}."))


def log(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


# --- new, build, clean -------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    """`new` twice, then build, build --frozen and build --rerun on the same folders."""
    base = tmp_path_factory.mktemp("dev")
    content, output, cache = base / "content", base / "output", base / "cache"
    common = ["--content", str(content), "--output", str(output)]
    cache_set = ["--set", f"FENCES_CACHE_PATH={cache}"]  # a bare path: not JSON, still a string

    before = datetime.now(UTC)
    first = invoke("new", "Hello Tensor Cores", "--content", str(content), cwd=base)
    after = datetime.now(UTC)
    created = sorted((content / "posts").glob("*.md"))
    text = created[0].read_text(encoding="utf-8") if created else ""
    if created:  # mark the file: a second `new` that overwrote it would lose the mark
        created[0].write_text(text + "\nAuthor's own words.\n", encoding="utf-8")
    second = invoke("new", "Hello Tensor Cores", "--content", str(content), cwd=base,
                    search_root=True)

    runs = {}  # frozen on an empty cache, run, rerun, then frozen on the filled cache
    for name, flags in (("frozen-miss", ["--frozen"]), ("build", []), ("rerun", ["--rerun"]),
                        ("frozen", ["--frozen"])):
        proc = invoke("build", *common, *cache_set, *flags, cwd=base)
        report = cache / "report.json"
        runs[name] = (proc, report.read_text() if report.exists() else "")
    return {"base": base, "content": content, "output": output, "first": first,
            "second": second, "created": created, "text": text, "window": (before, after),
            "runs": runs}


def test_new_creates_a_dated_draft_with_front_matter(dev):
    assert dev["first"].returncode == 0, log(dev["first"])
    (path,) = dev["created"]
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})-hello-tensor-cores\.md", path.name)
    assert match, path.name
    text = dev["text"]
    meta = dict(re.findall(r"^(\w+): (.*)$", text.split("\n\n", 1)[0], flags=re.M))
    assert set(meta) == {"Title", "Date", "Tags", "Status", "Summary"}
    assert meta["Title"] == "Hello Tensor Cores" and meta["Tags"] == "notes"  # a placeholder
    assert meta["Status"] == "draft" and meta["Summary"].strip()
    date = datetime.strptime(meta["Date"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)  # TIMEZONE
    before, after = dev["window"]
    assert before - timedelta(minutes=1) <= date <= after
    assert meta["Date"].startswith(match.group(1))
    assert re.search(r"^#{2,} \S", text, flags=re.M)
    assert re.search(r"^```python exec\n(.+\n)+```$", text, flags=re.M)


def test_new_refuses_to_overwrite(dev):
    proc = dev["second"]
    assert proc.returncode != 0
    assert "already exists" in log(proc)
    (path,) = dev["created"]
    assert path.read_text(encoding="utf-8").endswith("Author's own words.\n")
    assert sorted((dev["content"] / "posts").iterdir()) == dev["created"]


def test_build_makes_the_site_from_the_given_folders(dev):
    proc, _ = dev["runs"]["build"]
    assert proc.returncode == 0, log(proc)
    out = dev["output"]
    index = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    assert index.select_one("main, body") and SITEURL not in str(index)  # relative URLs
    # `invoke new` makes a draft: built at drafts/, not listed, no "draft" tag page
    assert "Hello Tensor Cores" not in index.text
    assert not (out / "posts/hello-tensor-cores").exists() and not (out / "tags/draft").exists()
    post = BeautifulSoup((out / "drafts/hello-tensor-cores.html").read_text(), "html.parser")
    assert post.select_one("h1").text.strip() == "Hello Tensor Cores"
    assert post.select_one("pre.fence-stdout").text == "45\n"  # the skeleton's fence ran
    assert not (ROOT / "content/posts" / dev["created"][0].name).exists()


@pytest.mark.parametrize("run, status", [("frozen-miss", "failed"), ("build", "ran"),
                                         ("rerun", "ran"), ("frozen", "cached")])
def test_build_flags_choose_the_fence_mode(dev, run, status):
    proc, report = dev["runs"][run]
    assert proc.returncode == 0, log(proc)
    assert re.findall(r'"status": "(\w+)"', report) == [status]


def test_build_fails_with_a_message_when_pelican_fails(tmp_path):
    write_files(tmp_path / "content", {"posts/a.md": GOOD_POST})
    proc = invoke("build", "--content", str(tmp_path / "content"), "--output",
                  str(tmp_path / "out"), "--set", f"FENCES_CACHE_PATH={tmp_path / 'cache'}",
                  "--set", "THEME=/nonexistent", cwd=tmp_path)
    assert proc.returncode != 0
    assert "pelican failed" in proc.stderr


def test_prune_keeps_what_the_content_uses_and_drops_the_rest(tmp_path):
    figure = ("```python exec alt=\"a line\"\nimport matplotlib.pyplot as plt\n"
              "plt.plot([0, 1], [0, {y}])\n```\n")
    post = "Title: Plots\nDate: 2026-03-03 10:00\n\n" + figure
    cache = tmp_path / "cache"
    args = ("--content", str(tmp_path / "content"), "--output", str(tmp_path / "out"),
            "--set", f"FENCES_CACHE_PATH={cache}")
    for y in (1, 2):  # the second build leaves the first figure behind
        write_files(tmp_path / "content", {"posts/plots.md": post.format(y=y)})
        assert invoke("build", *args, cwd=tmp_path).returncode == 0
    assert len(list(cache.glob("entries/*/*.json"))) == 2
    blobs = {p.name for p in cache.glob("blobs/*/*")}
    assert len(blobs) == 2

    variants = {p.name for p in cache.glob("variants/*")}
    notebooks = {p.name for p in cache.glob("notebooks/*/*.ipynb")}
    sources = {p.name for p in cache.glob("highlight/*.html")}
    # a dark rendering, a notebook and a highlighted source each
    assert len(variants) == len(notebooks) == len(sources) == 2
    time.sleep(1.1)  # the first figure's files are older than the prune's build

    proc = invoke("prune", *args, cwd=tmp_path)
    assert proc.returncode == 0, log(proc)
    assert "kept 1 entries; removed 1 entries and 1 blobs" in proc.stdout
    assert "and 3 derived files" in proc.stdout  # the old figure's, notebook's and source's
    assert len(list(cache.glob("variants/*"))) == len(list(cache.glob("notebooks/*/*"))) == 1
    assert len(list(cache.glob("highlight/*"))) == 1
    (entry,) = cache.glob("entries/*/*.json")
    (blob,) = cache.glob("blobs/*/*")
    assert blob.name in entry.read_text()  # the figure the current post shows
    page = (tmp_path / "out/posts/plots/index.html").read_text()
    assert (tmp_path / "out/fences").exists() and "<figure" in page
    rebuilt = invoke("build", *args, cwd=tmp_path)
    assert "0 ran, 1 cached" in rebuilt.stdout, log(rebuilt)


def test_clean_removes_the_output_folder(tmp_path):
    out = tmp_path / "out"
    write_files(out, {"index.html": "<p>old</p>", "posts/x/index.html": "x"})
    proc = invoke("clean", "--output", str(out), cwd=tmp_path)
    assert proc.returncode == 0, log(proc)
    assert not out.exists()


# --- publish -----------------------------------------------------------------------------


def make_repo(base: Path) -> tuple[Path, Path]:
    """A git repository (to deploy into) with a bare repository as its `origin`."""
    repo, remote = base / "repo", base / "remote.git"
    git("init", "-q", str(repo), cwd=base)
    git("init", "-q", "--bare", str(remote), cwd=base)
    git("remote", "add", "origin", str(remote), cwd=repo)
    return repo, remote


def publish(base: Path, content: Path, *extra: str) -> subprocess.CompletedProcess:
    return invoke("publish", "--content", str(content), "--output", str(base / "output"),
                  "--set", f"FENCES_CACHE_PATH={base / 'cache'}", "--set", f"SITEURL={SITEURL}",
                  *extra, cwd=base)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """One site published twice: with ghp-import (settings from --set), then to a folder."""
    base = tmp_path_factory.mktemp("publish")
    content = base / "content"
    write_files(content, {"posts/sums.md": GOOD_POST, "posts/figure.md": FIGURE_POST})
    repo, remote = make_repo(base)
    deploy = base / "deploy"
    write_files(deploy, {"stale.html": "from an older deploy"})

    ghp = publish(base, content, "--set", f"DEPLOY_REPOSITORY={repo}",
                  "--set", 'DEPLOY_BRANCH="site"')
    ghp_snapshot = snapshot(base / "output")
    directory = publish(base, content, "--set", 'DEPLOY_METHOD="directory"',
                        "--directory", str(deploy))
    return {"base": base, "content": content, "repo": repo, "remote": remote,
            "deploy": deploy, "ghp": ghp, "ghp_snapshot": ghp_snapshot,
            "directory": directory}


def test_publish_with_ghp_import_commits_the_site_to_the_branch(published):
    proc, repo = published["ghp"], published["repo"]
    assert proc.returncode == 0, log(proc)
    assert branch_commit(repo, "site")
    index = git("show", "site:index.html", cwd=repo)
    assert f"{SITEURL}/posts/matrix-sums/" in index  # publishconf.py: absolute URLs
    files = set(git("ls-tree", "-r", "--name-only", "site", cwd=repo).splitlines())
    assert files >= {"index.html", "posts/matrix-sums/index.html"}
    assert {p for p, data in published["ghp_snapshot"].items() if data is not None} <= files
    assert branch_commit(published["remote"], "site") is None  # DEPLOY_PUSH is False


def test_publish_to_a_directory_replaces_its_content(published):
    proc, deploy, out = published["directory"], published["deploy"], published["base"] / "output"
    assert proc.returncode == 0, log(proc)
    assert not (deploy / "stale.html").exists()
    assert snapshot(deploy) == snapshot(out)
    assert f"{SITEURL}/posts/matrix-sums/" in (deploy / "index.html").read_text()
    assert leftovers(out) == [] and leftovers(deploy) == []
    # Readable by a web server running as another user (invoke runs with umask 022).
    for tree in (out, deploy):
        modes: dict[bool, set[int]] = {}
        for path in [tree, *tree.rglob("*")]:
            modes.setdefault(path.is_dir(), set()).add(stat.S_IMODE(path.stat().st_mode))
        assert modes == {True: {0o755}, False: {0o644}}, tree
        assert list(tree.glob("fences/*.svg")), "the figure (written by the engine) is checked"


def test_publish_with_push_updates_the_remote(tmp_path):
    write_files(tmp_path / "content", {"posts/sums.md": GOOD_POST})
    repo, remote = make_repo(tmp_path)
    proc = publish(tmp_path, tmp_path / "content", "--repository", str(repo), "--push")
    assert proc.returncode == 0, log(proc)
    local = branch_commit(repo, "gh-pages")
    assert local and branch_commit(remote, "gh-pages") == local
    assert "matrix-sums" in git("show", "gh-pages:index.html", cwd=remote)


@pytest.mark.parametrize("method", ["ghp-import", "directory"])
@pytest.mark.parametrize("failure", ["fence", "frozen", "theme", "template"])
def test_failed_publish_changes_nothing(published, tmp_path, failure, method):
    base, repo, deploy = published["base"], published["repo"], published["deploy"]
    out = base / "output"
    assert published["ghp"].returncode == 0 and published["directory"].returncode == 0
    content, extra = published["content"], []
    if failure == "fence":  # strict mode: an unexpected fence error fails the build
        content = tmp_path / "content"
        shutil.copytree(published["content"], content)
        write_files(content, {"posts/broken.md": BAD_POST})
    elif failure == "frozen":  # a cache miss in frozen mode is an error
        extra = ["--frozen", "--set", f"FENCES_CACHE_PATH={tmp_path / 'empty-cache'}"]
    elif failure == "theme":  # Pelican stops while reading its settings
        extra = ["--set", "THEME=/nonexistent"]
    else:  # Pelican stops half-way through writing pages: only staging saves the output
        theme = tmp_path / "theme"
        shutil.copytree(ROOT / "plugins/execblog/theme", theme)
        (theme / "templates/article.html").write_text("{% no_such_tag %}\n")
        extra = ["--set", f"THEME={theme}"]
    if method == "ghp-import":
        extra += ["--repository", str(repo), "--branch", "site"]
    else:
        extra += ["--method", "directory", "--directory", str(deploy)]
    output_before, deploy_before = snapshot(out), snapshot(deploy)
    commit_before = branch_commit(repo, "site")

    proc = publish(base, content, *extra)

    assert proc.returncode != 0
    assert "pelican failed" in proc.stderr
    if failure == "fence":
        assert re.search(r"posts/broken\.md:5: error", log(proc)), log(proc)
    assert snapshot(out) == output_before
    assert snapshot(deploy) == deploy_before
    assert branch_commit(repo, "site") == commit_before
    assert leftovers(out) == [] and leftovers(deploy) == []


def test_publish_needs_a_siteurl_and_says_where_to_set_it(tmp_path):
    """The example site's publishconf.py has no address of its own: a publish names the
    setting and the file, builds nothing and touches nothing."""
    write_files(tmp_path / "content", {"posts/sums.md": GOOD_POST})
    write_files(tmp_path / "output", {"index.html": "<p>previous</p>"})
    before = snapshot(tmp_path / "output")
    proc = invoke("publish", "--content", str(tmp_path / "content"), "--output",
                  str(tmp_path / "output"), "--set", f"FENCES_CACHE_PATH={tmp_path / 'cache'}",
                  "--method", "directory", "--directory", str(tmp_path / "deploy"),
                  cwd=tmp_path)
    assert proc.returncode == 2, log(proc)
    assert proc.stderr.startswith(f"not publishing: SITEURL is empty. Set it in "
                                  f"{ROOT / 'publishconf.py'} to the address readers will see")
    assert "Processed" not in log(proc) and not (tmp_path / "cache").exists()
    assert snapshot(tmp_path / "output") == before and not (tmp_path / "deploy").exists()
