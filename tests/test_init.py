"""`execblog init DIR`: the installed console script writes a blog, which then builds with
real Pelican through its own tasks.py, makes drafts with `invoke new` and publishes.

One blog is made, built and published once per module; the tests read what came out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import ROOT, located, write_files
from test_tasks import ENV, log, snapshot

EXECBLOG = Path(sys.executable).with_name("execblog")  # the console script beside Python
URL = "https://ada.example.org/notes"
FILES = {".github/workflows/publish.yml", ".gitignore", "content/posts/welcome.md",
         "pelicanconf.py", "publishconf.py", "requirements.txt", "tasks.py"}


def execblog(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    assert EXECBLOG.is_file(), f"{EXECBLOG} is missing: pip install -e . makes it"
    return subprocess.run([str(EXECBLOG), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=ENV)


def invoke(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real invoke CLI, finding the blog's tasks.py from ``cwd`` upwards."""
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=ENV, umask=0o022)


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def blog(tmp_path_factory) -> dict:
    """`execblog init`, `invoke new` from a subfolder, `invoke build`, and publishes: none
    without SITEURL, one to a folder, one with rsync."""
    base = tmp_path_factory.mktemp("init")
    made = execblog("init", "notes", "--title", "Ada's \"notes\"", "--author", "Ada Lovelace",
                    "--url", URL + "/", cwd=base)
    root = base / "notes"
    written = files(root)
    new = invoke("new", "First steps", "--tags", "gpu,  numerics,", cwd=root / "content")
    drafts = [p.name for p in (root / "content/posts").glob("*-first-steps.md")]
    built = invoke("build", cwd=root)
    output_before = snapshot(root / "output")  # the publishes below replace it
    report = root / "fence-cache/report.json"
    report = json.loads(report.read_text()) if report.is_file() else {}
    no_siteurl = invoke("publish", "--set", 'SITEURL=""', cwd=root)
    output_after = snapshot(root / "output")
    folder = invoke("publish", "--method", "directory", "--directory", str(base / "www"),
                    cwd=root)
    rsync = None
    if shutil.which("rsync"):
        (base / "rsynced").mkdir()
        (base / "rsynced" / "stale.html").write_text("from an older site")
        rsync = invoke("publish", "--method", "rsync", "--rsync-target", f"{base}/rsynced/",
                       cwd=root)
    return {"base": base, "root": root, "made": made, "written": written, "new": new,
            "draft": drafts[0] if drafts else "", "built": built, "no_siteurl": no_siteurl,
            "unchanged": output_before == output_after, "dev": output_before,
            "report": report,
            "folder": folder, "rsync": rsync}


def settings(conf: Path) -> dict:
    from pelican.settings import read_settings

    return read_settings(str(conf))


def test_init_writes_the_blog_and_prints_the_next_two_commands(blog):
    made, root = blog["made"], blog["root"]
    assert made.returncode == 0, log(made)
    assert blog["written"] == FILES
    lines = [line.strip() for line in made.stdout.splitlines()]
    assert lines[lines.index("Next:") + 1:][:2] == [
        "cd notes", "invoke livereload   # build, serve at http://127.0.0.1:8000, rebuild on save"]

    import execblog as package

    dev = settings(root / "pelicanconf.py")
    assert dev["PLUGINS"] == ["execblog"] and dev["THEME"] == package.THEME
    assert (dev["SITENAME"], dev["AUTHOR"]) == ('Ada\'s "notes"', "Ada Lovelace")
    assert dev["SITEURL"] == "" and dev["PATH"] == str(root / "content")
    assert settings(root / "publishconf.py")["SITEURL"] == URL  # no trailing slash
    assert "from execblog import THEME" in (root / "pelicanconf.py").read_text()
    tasks = (root / "tasks.py").read_text()
    assert "from execblog.sitetasks.tasks import site_tasks" in tasks
    assert "def " not in tasks and len(tasks.splitlines()) < 15  # Execblog's, not a copy


def test_the_blog_has_the_site_tasks(blog):
    listed = invoke("--list", "--list-format", "json", cwd=blog["root"])
    assert listed.returncode == 0, log(listed)
    names = {entry["name"] for entry in json.loads(listed.stdout)["tasks"]}
    assert names == {"build", "clean", "livereload", "new", "prune", "publish", "rebuild",
                     "serve"}


def test_the_starter_post_shows_math_a_figure_a_diagram_and_a_benchmark(blog):
    built = blog["built"]
    assert built.returncode == 0, log(built)
    assert located(log(built)) == [], log(built)  # no error, no warning
    dev = blog["dev"]
    page = BeautifulSoup(dev["posts/welcome/index.html"], "html.parser")
    assert page.select_one("h1").text.strip() == 'Welcome to Ada\'s "notes"'
    maths = page.find_all("math")
    assert len(maths) == 2 and {m["display"] for m in maths} == {"inline", "block"}
    assert "<script" not in str(page.select_one("math").parent)
    figure = page.select_one("figure.fence-figure")
    image = figure.find("img")
    assert b"<svg" in dev[os.path.normpath(f"posts/welcome/{image['src']}")]  # the figure
    assert image["alt"].startswith("A sine wave") and "damped" in figure.figcaption.text
    diagram = page.select_one("figure.diagram")
    assert diagram.find("svg") is not None and len(diagram.find("svg").find_all("path")) > 5
    table = page.select_one("table.bench")
    cases = [row.find(["th", "td"]).text.strip() for row in table.select("tbody tr")]
    assert cases == ["sum", "sum", "sort", "sort"]
    assert "GB/s" in [th.text for th in table.select("thead th")]
    assert sorted((f["source"], f["status"]) for f in blog["report"]["fences"]) == sorted(
        [("posts/welcome.md", "ran")] * 3 + [(f"posts/{blog['draft']}", "ran")])


def test_invoke_new_writes_a_draft_with_tags_and_a_fence(blog):
    new, root = blog["new"], blog["root"]
    assert new.returncode == 0, log(new)
    (draft,) = (root / "content/posts").glob("*-first-steps.md")
    assert f"Created {draft}" in new.stdout
    text = draft.read_text()
    meta = dict(re.findall(r"^(\w+): (.*)$", text.split("\n\n", 1)[0], flags=re.M))
    assert meta["Tags"] == "gpu, numerics" and meta["Status"] == "draft"
    assert re.search(r"^```python exec\n(.+\n)+```$", text, flags=re.M)
    page = BeautifulSoup(blog["dev"]["drafts/first-steps.html"], "html.parser")
    assert page.select_one("pre.fence-stdout").text == "45\n"  # its fence ran in the build
    assert "tags/gpu/index.html" not in blog["dev"]  # a draft is not listed


def test_publish_without_siteurl_names_the_setting_and_changes_nothing(blog):
    proc, root = blog["no_siteurl"], blog["root"]
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"not publishing: SITEURL is empty. Set it in {root / 'publishconf.py'} to the address "
        'readers will see, e.g. SITEURL = "https://you.github.io/blog" (or pass '
        "--set SITEURL=https://...): the sitemap, feeds and links are made from it")
    assert "Processed" not in log(proc)  # refused before building
    assert blog["unchanged"]


def test_publish_to_a_folder(blog):
    proc, root, www = blog["folder"], blog["root"], blog["base"] / "www"
    assert proc.returncode == 0, log(proc)
    assert f"Deployed to {www}" in proc.stdout
    assert snapshot(www) == snapshot(root / "output")
    index = (www / "index.html").read_text()
    assert f"{URL}/posts/welcome/" in index
    assert f"<loc>{URL}/posts/welcome/</loc>" in (www / "sitemap.xml").read_text()
    assert not (www / "drafts").exists()  # the draft is not published


def test_publish_with_rsync(blog):
    if blog["rsync"] is None:
        pytest.skip("rsync is not installed here (DEPLOY_METHOD rsync runs the real one)")
    proc, target = blog["rsync"], blog["base"] / "rsynced"
    assert proc.returncode == 0, log(proc)
    assert f"Deployed to {blog['base']}/rsynced/ (rsync)" in proc.stdout
    assert snapshot(target) == snapshot(blog["root"] / "output")  # stale.html deleted
    assert not [p for p in os.listdir(target) if p.startswith(".~tmp~")]


def test_the_workflow_builds_with_the_fence_cache_and_deploys_to_pages(blog):
    root = blog["root"]
    flow = yaml.safe_load((root / ".github/workflows/publish.yml").read_text())
    assert flow[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads `on` as True
    assert flow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    steps = flow["jobs"]["build"]["steps"]
    uses = {step.get("uses", "").split("@")[0]: step for step in steps}
    cache = uses["actions/cache"]["with"]
    assert cache["path"] == "fence-cache" and "hashFiles('content/**'" in cache["key"]
    assert cache["restore-keys"] == "fence-cache-"
    runs = [step["run"] for step in steps if "run" in step]
    assert "pip install -r requirements.txt" in runs
    (build,) = [run for run in runs if run.startswith("invoke publish")]
    assert "--directory _site" in build and "steps.pages.outputs.base_url" in build
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_site"
    order = list(uses)
    assert order.index("actions/cache") < order.index("actions/upload-pages-artifact")
    deploy = flow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    requirement = [line for line in (root / "requirements.txt").read_text().splitlines()
                   if line and not line.startswith("#")]
    assert len(requirement) == 1 and requirement[0].startswith("execblog")


def test_gitignore_keeps_builds_out_of_git(blog, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(blog["root"], root)
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=ENV)
    ignored = subprocess.run(
        ["git", "check-ignore", "output/index.html", "_site/index.html", "fence-cache/x.json",
         "content/posts/welcome.md", "pelicanconf.py", ".github/workflows/publish.yml"],
        cwd=root, capture_output=True, text=True, env=ENV).stdout.split()
    assert ignored == ["output/index.html", "_site/index.html", "fence-cache/x.json"]


def test_init_refuses_a_folder_that_is_not_empty(tmp_path):
    target = tmp_path / "blog"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    proc = execblog("init", "blog", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == (f"execblog init: error: {target} is not empty (it holds "
                                   "notes.txt); nothing was written: choose a new or empty "
                                   "folder")
    assert files(target) == {"notes.txt"} and (target / "notes.txt").read_text() == "mine"


def test_init_into_a_fresh_git_repository_with_default_title(tmp_path):
    target = tmp_path / "gpu_field-notes"
    subprocess.run(["git", "init", "-q", str(target)], check=True, env=ENV)
    proc = execblog("init", str(target), "--author", "A", cwd=tmp_path)
    assert proc.returncode == 0, log(proc)
    assert {f for f in files(target) if not f.startswith(".git/")} == FILES
    assert settings(target / "pelicanconf.py")["SITENAME"] == "Gpu field notes"
    assert settings(target / "publishconf.py")["SITEURL"] == ""


@pytest.mark.parametrize("args, words", [
    (["--url", "ada.example.org"], "--url must be an absolute http(s) address"),
    (["--title", " "], "--title must be one non-empty line"),
])
def test_init_refuses_bad_values(tmp_path, args, words):
    proc = execblog("init", "blog", *args, cwd=tmp_path)
    assert proc.returncode == 2 and words in proc.stderr, log(proc)
    assert not (tmp_path / "blog").exists()


def test_an_existing_blog_takes_the_tasks_with_its_own_folders_and_theme(tmp_path):
    """A Pelican blog of its own shape (PATH and OUTPUT_PATH elsewhere, Pelican's theme)
    with the three-line tasks.py: `invoke -r BLOG build` from another folder builds it."""
    blog = tmp_path / "site"
    write_files(blog, {
        "pelicanconf.py": """
            AUTHOR = "B"
            SITENAME = "Own"
            PATH = "src"
            OUTPUT_PATH = "public"
            PLUGINS = ["execblog"]
            FENCES_CACHE_PATH = "cache"
            """,
        "tasks.py": (ROOT / "plugins/execblog/starter/tasks.py").read_text(),
        "src/sum.md": """
            Title: A sum
            Date: 2026-03-01

            ```python exec
            print(int(xp.arange(4).sum()))
            ```
            """,
    })
    proc = invoke("-r", str(blog), "build", cwd=tmp_path)
    assert proc.returncode == 0, log(proc)
    page = BeautifulSoup((blog / "public/a-sum.html").read_text(), "html.parser")
    assert page.select_one("pre.fence-stdout").text == "6\n"
    assert (blog / "cache/report.json").is_file() and not (tmp_path / "output").exists()
    assert page.select_one("header#banner")  # Pelican's own theme (notmyidea), kept
