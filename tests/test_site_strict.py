"""Errors Pelican logs (an unreadable post, bad metadata) are located, recorded in build.json
and fail a strict build; the content cache, which would publish bare placeholders, is refused.
"""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import ROOT

GOOD = """
    Title: Good
    Date: 2026-03-01 10:00

    Fine.
    """
LATE = "Title: Late\nDate: next tuesday\n\nNever read.\n"
LATE_LINE = ("content/posts/late.md: error: could not process: "
             "ValueError: 'next tuesday' is not a valid date")


def record(build) -> dict:
    return json.loads((build.cache / "build.json").read_text(encoding="utf-8"))


def test_dev_build_shows_why_a_post_was_left_out_and_goes_on(site):
    build = site({"posts/good.md": GOOD, "posts/late.md": LATE},
                 settings={"FENCES_BUILD_ID": "dev-1"})
    assert build.returncode == 0, build.log
    assert LATE_LINE in build.log.splitlines()  # one located line, with the reason
    assert build.post("good").select_one("h1").text.strip() == "Good"
    assert record(build) == {"build_id": "dev-1", "complete": True, "errors": [LATE_LINE],
                             "written": 1, "missing": []}


def test_strict_build_fails_on_an_unreadable_post(site):
    build = site({"posts/good.md": GOOD, "posts/late.md": LATE}, conf="publishconf.py")
    assert build.returncode == 1, build.log
    assert f"1 site error(s) (strict mode): {LATE_LINE}" in build.log
    assert "Traceback" not in build.log
    assert build.post("good")  # everything else was written before the build failed
    assert record(build)["errors"] == [LATE_LINE]


def test_strict_build_fails_on_bad_metadata(site):
    bogus = "Title: Bogus\nDate: 2026-03-02\nStatus: bogus\n\nHi.\n"
    build = site({"posts/good.md": GOOD, "posts/bogus.md": bogus}, conf="publishconf.py")
    assert build.returncode == 1, build.log
    (error,) = record(build)["errors"]
    assert error.startswith("content/posts/bogus.md: error: Unknown status 'bogus'"), error
    assert "site error(s) (strict mode): content/posts/bogus.md: error:" in build.log


def test_a_template_error_leaves_no_build_record(site, tmp_path):
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "plugins/execblog/theme", theme)
    first = site({"posts/good.md": GOOD}, conf="publishconf.py", settings={"THEME": str(theme)})
    assert first.returncode == 0 and record(first)["complete"], first.log
    (theme / "templates/article.html").write_text("{{ article.title | no_such_filter }}\n")
    build = site(conf="publishconf.py", settings={"THEME": str(theme)})
    assert build.returncode != 0, build.log
    assert not (build.cache / "build.json").exists()  # the last build's record is gone too


@pytest.mark.parametrize("setting", ["LOAD_CONTENT_CACHE", "CACHE_CONTENT"])
def test_the_content_cache_is_refused(site, setting):
    fence = "Title: F\nDate: 2026-03-03\n\n```python exec\nprint(1)\n```\n"
    build = site({"posts/f.md": fence}, settings={setting: True})
    assert build.returncode != 0, build.log
    assert f"error: {setting} must be False" in build.log
    assert "placeholders" in build.log
    assert not (build.output / "posts/f/index.html").exists()


def test_an_unwritable_cache_costs_the_record_not_the_site(site, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("where the cache folder should be")
    build = site({"posts/good.md": GOOD}, settings={"FENCES_CACHE_PATH": str(blocker / "c")})
    assert build.returncode == 0, build.log
    assert "warning: cannot write the build record" in build.log
    assert build.post("good")
