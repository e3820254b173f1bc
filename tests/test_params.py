"""Parameter grids (``#| params:``), built with real Pelican: the default state in the page,
the feed and the notebook; one fragment file per other state holding that state's outputs;
one report entry per state, cached per state (adding a value runs only the new states);
located errors for too many combinations and bad values; and in Chromium, moving the slider
swaps the figure. One build, one rebuild with a value added, one build of bad posts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import feedparser
import nbformat
import pytest
from bs4 import BeautifulSoup
from conftest import located, run_pelican, write_files

POST = """\
Title: Knobs
Date: 2024-01-01
Slug: knobs

Some prose before the figures.

```python exec
import matplotlib.pyplot as plt
base = 10
```

```python exec
#| params:
#|   scale: {scales}
#|   colour: [red, blue]
#| alt: A straight line
print(f"state scale={{scale}} colour={{colour}}")
fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1], [0, scale * base], color=colour)
```

```python exec
#| params:
#|   scale: {scales}
print(f"shared scale={{scale}}")
```

```python exec
print(f"after: scale={{scale}} colour={{colour}}")
```
"""
GRID = "[1, 2]"
GROWN = "[1, 2, 3]"
STATES = [(1, "red"), (1, "blue"), (2, "red"), (2, "blue")]
BAD = {
    "posts/many.md": """\
        Title: Many
        Date: 2024-01-02
        Slug: many

        ```python exec
        #| params:
        #|   a: [1, 2, 3]
        #|   b: [1, 2]
        print(a, b)
        ```
        """,
    "posts/badvalue.md": """\
        Title: Bad value
        Date: 2024-01-03
        Slug: badvalue

        Text.

        ```python exec
        #| echo: false
        #| params:
        #|   a: [1, [2, 3]]
        print(a)
        ```
        """,
    "posts/baddefault.md": """\
        Title: Bad default
        Date: 2024-01-04
        Slug: baddefault

        ```python exec
        #| params:
        #|   a: [1, 2]
        #| params-default:
        #|   a: 5
        print(a)
        ```
        """,
    "posts/mismatch.md": """\
        Title: Mismatch
        Date: 2024-01-06
        Slug: mismatch

        ```python exec
        #| params:
        #|   a: [1, 2]
        print(a)
        ```

        ```python exec
        #| params:
        #|   a: [1, 3]
        print(a)
        ```
        """,
    "posts/fine.md": """\
        Title: Fine
        Date: 2024-01-05
        Slug: fine

        ```python exec
        print("still built")
        ```
        """,
}


def _build(tmp: Path, scales: str, out: str, settings: dict | None = None):
    write_files(tmp / "content", {"posts/knobs.md": POST.format(scales=scales)})
    proc = run_pelican(tmp / "content", tmp / out,
                       settings={"FENCES_CACHE_PATH": str(tmp / "cache"), **(settings or {})})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((tmp / "cache" / "report.json").read_text(encoding="utf-8"))
    return tmp / out, report


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("params")
    first = _build(tmp, GRID, "output")
    second = _build(tmp, GROWN, "output2")
    return first, second


@pytest.fixture(scope="module")
def site(builds):
    output, report = builds[0]
    return output, report, BeautifulSoup((output / "posts/knobs/index.html").read_text(
        encoding="utf-8"), "html.parser")


def _grid_fence(soup: BeautifulSoup):
    return soup.select(".params-fence")[0]


def _states(fence) -> dict[str, str]:
    return json.loads(fence["data-states"])


def _fragment(output: Path, fence, state: str) -> BeautifulSoup:
    folder = (output / "posts/knobs" / fence["data-src"]).resolve().parent
    text = (folder / _states(fence)[state]).read_text(encoding="utf-8")
    return BeautifulSoup(text, "html.parser"), folder


def test_the_page_holds_the_default_state_and_one_control_per_parameter(site) -> None:
    output, _, soup = site
    fence = _grid_fence(soup)
    assert fence.select_one(".fence-stdout").get_text() == "state scale=1 colour=red\n"
    assert "after: scale=1 colour=red" in soup.get_text()  # later fences see the default
    controls = soup.select(".params-controls")
    assert len(controls) == 1  # the second fence shares scale's control
    assert controls[0].has_attr("hidden") and controls[0].has_attr("data-pagefind-ignore")
    slider = controls[0].select_one('input[type="range"][data-param="scale"]')
    assert slider["value"] == "0" and slider["aria-valuetext"] == "1"
    assert soup.select_one(f'label[for="{slider["id"]}"]').get_text() == "scale"
    assert soup.select_one(f'output[for="{slider["id"]}"]')["aria-live"] == "polite"
    select = controls[0].select_one('select[data-param="colour"]')
    assert [o.get_text() for o in select.select("option")] == ["red", "blue"]
    assert soup.select_one(f'label[for="{select["id"]}"]').get_text() == "colour"
    scripts = [s["src"] for s in soup.select("script[src]")]
    assert any(s.endswith("/js/params.js") for s in scripts)
    assert (output / "theme/js/params.js").is_file()


def test_one_fragment_per_other_state_holds_exactly_its_outputs(site) -> None:
    output, _, soup = site
    fence = _grid_fence(soup)
    states = _states(fence)
    assert sorted(states) == ["0,1", "1,0", "1,1"]
    figures = {}
    for (scale, colour), state in zip(STATES[1:], ["0,1", "1,0", "1,1"], strict=True):
        fragment, folder = _fragment(output, fence, state)
        assert fragment.select_one(".fence-stdout").get_text() == (
            f"state scale={scale} colour={colour}\n")
        images = fragment.select("figure img")
        assert images and all((folder / img["src"]).is_file() for img in images)
        figures[state] = (folder / images[0]["src"]).read_bytes()
    default = (output / "posts/knobs" / fence.select_one("figure img")["src"]).read_bytes()
    assert len({default, *figures.values()}) == 4  # each state its own figure
    shared = soup.select(".params-fence")[1]
    assert sorted(_states(shared)) == ["1"]
    fragment, _ = _fragment(output, shared, "1")
    assert fragment.get_text().count("shared scale=2") == 1


def test_a_state_shows_the_figure_a_build_of_it_alone_makes(site, tmp_path) -> None:
    output, _, soup = site
    fragment, folder = _fragment(output, _grid_fence(soup), "1,0")  # scale=2, colour=red
    alone = POST.format(scales=GRID).replace(
        "#| params:\n#|   scale: [1, 2]\n#|   colour: [red, blue]\n",
        "scale, colour = 2, 'red'\n", 1)
    assert "colour: [red, blue]" not in alone
    write_files(tmp_path / "content", {"posts/knobs.md": alone})
    proc = run_pelican(tmp_path / "content", tmp_path / "output",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    page = BeautifulSoup((tmp_path / "output/posts/knobs/index.html").read_text(
        encoding="utf-8"), "html.parser")
    img = page.select("figure img")[0]["src"]
    made = (tmp_path / "output/posts/knobs" / img).read_bytes()
    assert (folder / fragment.select_one("figure img")["src"]).read_bytes() == made


def test_the_report_lists_each_state(site) -> None:
    _, report, _ = site
    grid = [f for f in report["fences"] if f.get("params") and "colour" in f["params"]]
    assert [(f["params"]["scale"], f["params"]["colour"]) for f in grid] == STATES
    assert {f["status"] for f in grid} == {"ran"}
    assert len({f["key"] for f in grid}) == 4


def test_adding_a_value_runs_only_the_new_states(builds) -> None:
    (_, first), (output, second) = builds
    before = {f["key"] for f in first["fences"]}
    ran = [(f.get("params"), f["status"]) for f in second["fences"] if f["status"] != "cached"]
    assert sorted(ran, key=str) == sorted([({"scale": 3, "colour": "red"}, "ran"),
                                           ({"scale": 3, "colour": "blue"}, "ran"),
                                           ({"scale": 3}, "ran")], key=str)
    assert {f["key"] for f in second["fences"] if f["status"] == "cached"} <= before
    soup = BeautifulSoup((output / "posts/knobs/index.html").read_text(encoding="utf-8"),
                         "html.parser")
    assert soup.select_one('input[data-param="scale"]')["max"] == "2"


def test_feed_and_notebook_hold_the_default_state_without_controls(site) -> None:
    output, _, _ = site
    feed = feedparser.parse(str(output / "feeds/all.atom.xml"), sanitize_html=False,
                            resolve_relative_uris=False)
    entry = feed.entries[0]
    html = entry.content[0].value
    body = BeautifulSoup(html, "html.parser")
    assert "state scale=1 colour=red" in body.get_text()
    assert not body.select(".params-controls, input, select, script")
    assert "data-states" not in html and "params.js" not in html
    nb = nbformat.read(output / "posts/knobs/knobs.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and "plt.subplots" in c.source][0]
    assert code.source.splitlines()[0] == "scale = 1; colour = 'red'"
    assert "state scale=1 colour=red" in json.dumps(code.outputs)


def test_too_many_combinations_and_bad_values_are_located_errors(tmp_path) -> None:
    write_files(tmp_path / "content", BAD)
    proc = run_pelican(tmp_path / "content", tmp_path / "output",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_PARAMS_LIMIT": 4})
    errors = {(Path(p).name, line): msg for p, line, sev, msg in
              located(proc.stdout + proc.stderr) if sev == "error"}
    assert "3 x 2 = 6 combinations" in errors[("many.md", 6)]
    assert "FENCES_PARAMS_LIMIT" in errors[("many.md", 6)]
    assert "a: [2, 3] is not a number, a string or a boolean" in errors[("badvalue.md", 9)]
    assert "is not one of its values" in errors[("baddefault.md", 8)]
    assert "fences that share a parameter share its control" in errors[("mismatch.md", 11)]
    fine = (tmp_path / "output/posts/fine/index.html").read_text(encoding="utf-8")
    assert "still built" in fine  # the rest of the build goes on


def test_moving_the_slider_swaps_the_figure(site, chromium) -> None:
    if chromium is None:
        if os.environ.get("EXECBLOG_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium or Playwright is missing; EXECBLOG_REQUIRE_BROWSER=1")
        pytest.skip("browser check needs Chromium and the playwright package")
    from browser_support import JS_AXE, axe_script, serve

    output, _, soup = site
    fence = _grid_fence(soup)
    fragment, _ = _fragment(output, fence, "1,0")
    wanted = fragment.select_one("figure img")["src"]
    with serve(output) as url:
        context = chromium.new_context()
        try:
            page = context.new_page()
            page.goto(url + "posts/knobs/", wait_until="load")
            slider = page.locator('input[data-param="scale"]')
            slider.wait_for(state="visible")
            slider.focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "() => document.querySelector('.params-fence .fence-stdout').textContent"
                ".includes('scale=2 colour=red')")
            src = page.evaluate(
                "() => document.querySelector('.params-fence figure img').src")
            assert src.endswith("/fences/" + wanted)
            assert page.locator(".params-control output").first.text_content() == "2"
            assert page.locator(".params-fence").first.locator(".copy-button").count() == 1
            assert page.locator(".params-fence").nth(1).text_content().count(
                "shared scale=2") == 1
            page.locator('select[data-param="colour"]').select_option("1")
            page.wait_for_function(
                "() => document.querySelector('.params-fence .fence-stdout').textContent"
                ".includes('scale=2 colour=blue')")
            axe = axe_script()
            if isinstance(axe, Path):  # with the controls shown and a state swapped in
                page.add_script_tag(path=str(axe))
                assert page.evaluate(JS_AXE) == []
            page.goto((output / "posts/knobs/index.html").as_uri(), wait_until="load")
            page.locator('input[data-param="scale"]').focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "() => document.querySelector('.params-status').textContent.length > 0")
            assert "could not be loaded" in page.locator(".params-status").text_content()
        finally:
            context.close()
