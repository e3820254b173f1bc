"""Unit tests of the diagram library (plugins/execblog/diagrams): schema, layout, routing, SVG."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from execblog.diagrams import DiagramError, render_diagram  # noqa: E402
from execblog.diagrams.jsonloc import LocatedJSON  # noqa: E402
from execblog.diagrams.layout import anchors, frames, layout, obstacles  # noqa: E402
from execblog.diagrams.route import route_all  # noqa: E402
from execblog.diagrams.schema import parse  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"

ISSUE_EXAMPLE = """{
  "direction": "right",
  "items": [
    {"id": "stack", "type": "cells", "label": "stack", "orient": "vertical",
     "cells": ["ret addr", "n = 3", {"id": "p", "text": "p"}]},
    {"id": "node", "type": "box", "text": "Node"},
    {"id": "note", "type": "text", "text": "heap"}
  ],
  "arrows": [{"from": "stack.p", "to": "node", "label": "points to"}]
}"""


def render(spec: dict | str, **kwargs) -> str:
    return render_diagram(spec if isinstance(spec, str) else json.dumps(spec), **kwargs)


def tree(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode())


def texts(svg: str) -> dict[str, etree._Element]:
    return {t.text: t for t in tree(svg).iter(f"{SVG}text")}


def paths(svg: str) -> list[etree._Element]:
    return list(tree(svg).iter(f"{SVG}path"))


def error(spec: dict | str) -> DiagramError:
    with pytest.raises(DiagramError) as info:
        render(spec)
    return info.value


# -- the issue's example, document shape ---------------------------------------------------


def test_issue_example_is_well_formed_accessible_svg():
    svg = render(ISSUE_EXAMPLE, caption="Stack and heap")
    root = tree(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Stack and heap"
    assert root.find(f"{SVG}title").text == "Stack and heap"
    x, y, w, h = (float(v) for v in root.get("viewBox").split())
    assert w > 200 and h > 80
    assert {"ret addr", "n = 3", "p", "stack", "Node", "heap", "points to"} <= set(texts(svg))
    # hand-drawn: rough draws each outline twice, as curves
    assert any(p.get("d").count("C") >= 8 for p in paths(svg))


def test_without_caption_the_accessible_name_comes_from_the_text():
    root = tree(render(ISSUE_EXAMPLE))
    assert root.get("aria-label").startswith("Diagram: ")
    assert "Node" in root.get("aria-label")


def test_coordinates_are_rounded_and_everything_is_inside_the_viewbox():
    svg = render(ISSUE_EXAMPLE)
    numbers = re.findall(r"-?\d+(?:\.\d+)?", " ".join(p.get("d") for p in paths(svg)))
    assert numbers and all(len(n.partition(".")[2]) <= 1 for n in numbers)
    x, y, w, h = (float(v) for v in tree(svg).get("viewBox").split())
    values = [float(n) for n in numbers]
    xs, ys = values[0::2], values[1::2]
    assert x <= min(xs) and max(xs) <= x + w
    assert y <= min(ys) and max(ys) <= y + h


# -- determinism ---------------------------------------------------------------------------


def test_same_input_same_bytes_and_seed_changes_strokes():
    spec = json.loads(ISSUE_EXAMPLE)
    assert render(spec) == render(spec)
    other = render({**spec, "seed": 42})
    assert other != render(spec)
    assert other == render({**spec, "seed": 42})
    # only the strokes change, not the layout
    assert texts(other).keys() == texts(render(spec)).keys()


def test_roughness_zero_draws_exact_rectangles():
    svg = render({"roughness": 0, "items": [{"type": "box", "text": "x", "x": 0, "y": 0}]})
    (outline,) = paths(svg)
    assert outline.get("d").startswith("M0 0")
    assert render({"roughness": 3, "items": [{"type": "box", "text": "x"}]}) != svg


# -- item types and options ----------------------------------------------------------------


def test_box_grows_with_its_text_and_never_clips():
    short = parse(json.dumps({"items": [{"type": "box", "text": "ab"}]}))
    long = parse(json.dumps({"items": [{"type": "box", "text": "a much longer label W" * 3}]}))
    (a,), (b,) = layout(short), layout(long)
    assert b.body.w > a.body.w
    for node in (a, b):
        r = node.texts[0].rect("sans")
        assert node.body.x < r.x and r.right < node.body.right


def test_multiline_box_text_and_font_size():
    svg = render({"font-size": 20, "items": [{"type": "box", "text": "one\ntwo"}]})
    t = texts(svg)
    assert float(t["two"].get("y")) > float(t["one"].get("y"))
    assert t["one"].get("font-size") == "20"


def test_cells_horizontal_and_vertical():
    spec = {"items": [{"type": "cells", "cells": ["a", "b", 3]}]}
    t = texts(render(spec))
    xs = [float(t[k].get("x")) for k in ("a", "b", "3")]
    assert xs == sorted(xs) and len(set(xs)) == 3
    spec["items"][0]["orient"] = "vertical"
    t = texts(render(spec))
    ys = [float(t[k].get("y")) for k in ("a", "b", "3")]
    assert ys == sorted(ys) and len({t[k].get("x") for k in ("a", "b", "3")}) == 1


def test_cells_label_and_indices():
    t = texts(
        render({"items": [{"type": "cells", "label": "arr", "indices": True, "cells": ["x", "y"]}]})
    )
    assert float(t["arr"].get("x")) < float(t["x"].get("x"))  # label beside a row
    assert {"0", "1"} <= set(t) and t["0"].get("opacity") == "0.7"
    t = texts(
        render(
            {
                "items": [
                    {"type": "cells", "label": "col", "orient": "vertical", "cells": ["x", "y"]}
                ]
            }
        )
    )
    assert float(t["col"].get("y")) < float(t["x"].get("y"))  # label above a column


def test_text_item_draws_no_outline():
    svg = render({"items": [{"type": "text", "text": "just words"}]})
    assert paths(svg) == [] and "just words" in texts(svg)


def test_group_frames_its_children():
    spec = {
        "items": [
            {
                "id": "g",
                "type": "group",
                "label": "CPU",
                "direction": "down",
                "items": [{"type": "box", "text": "core 0"}, {"type": "box", "text": "core 1"}],
            }
        ]
    }
    svg = render(spec)
    frame = [p for p in paths(svg) if p.get("stroke-dasharray")]
    assert frame, "the group frame is dashed"
    t = texts(svg)
    assert float(t["core 1"].get("y")) > float(t["core 0"].get("y"))  # direction: down
    (group,) = layout(parse(json.dumps(spec)))
    for child in group.children:
        assert group.body.x < child.box.x and child.box.right < group.body.right
        assert group.body.y < child.box.y and child.box.bottom < group.body.bottom


def test_direction_gap_and_explicit_position():
    items = [{"type": "box", "text": "A"}, {"type": "box", "text": "B"}]
    t = texts(render({"items": items}))
    assert float(t["B"].get("x")) > float(t["A"].get("x"))
    t = texts(render({"direction": "down", "items": items}))
    assert float(t["B"].get("y")) > float(t["A"].get("y"))
    assert t["B"].get("x") == t["A"].get("x")
    narrow = layout(parse(json.dumps({"gap": 10, "items": items})))
    wide = layout(parse(json.dumps({"gap": 100, "items": items})))
    assert wide[1].box.x - narrow[1].box.x == pytest.approx(90)
    placed = layout(parse(json.dumps({"items": [items[0], {**items[1], "x": 300, "y": 200}]})))
    assert (placed[1].box.x, placed[1].box.y) == (300, 200)


def test_fill_and_stroke_per_item_and_per_diagram():
    spec = {
        "items": [
            {"type": "box", "text": "A", "fill": "#ff0000", "stroke": "#123456"},
            {"type": "box", "text": "B", "fill": "#00ff00", "fill-style": "solid"},
            {"type": "cells", "cells": [{"text": "c", "fill": "#0000ff"}]},
        ]
    }
    for standalone in (False, True):
        svg = render(spec, standalone=standalone)
        assert 'stroke="#ff0000" stroke-width="1"' in svg  # hachure in the fill colour
        assert 'stroke="#123456"' in svg and texts(svg)["A"].get("fill") == "#123456"
        assert 'fill="#00ff00" fill-opacity="0.45"' in svg  # solid fill
        assert 'stroke="#0000ff"' in svg  # per-cell fill
    svg = render({"stroke": "#aa0000", "fill": "#eeeeee", "items": [{"type": "box", "text": "A"}]})
    assert "currentColor" not in svg and 'stroke="#eeeeee"' in svg


def test_font_choice():
    assert "monospace" in tree(render({"font": "mono", "items": []})).get("font-family")
    assert "sans-serif" in tree(render({"items": []})).get("font-family")


# -- colours: inline follows the page theme, standalone has fixed colours ------------------


def test_inline_uses_current_color_and_theme_classes():
    svg = render(ISSUE_EXAMPLE)
    assert 'stroke="currentColor" class="diagram-stroke"' in svg
    assert 'class="diagram-text"' in svg and "diagram-halo" in svg
    assert "#1e1e1e" not in svg


def test_standalone_has_fixed_colours_background_and_xmlns():
    svg = render(ISSUE_EXAMPLE, caption="Stack", standalone=True)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "currentColor" not in svg and 'class="diagram-stroke' not in svg
    root = tree(svg)
    background = root.find(f"{SVG}rect")
    assert background.get("fill") == "#ffffff"
    assert background.get("width") == root.get("viewBox").split()[2]
    assert texts(svg)["Node"].get("fill") == "#1e1e1e"
    assert root.get("aria-label") == "Stack"


def test_stylesheet_covers_both_dark_mode_triggers():
    css = (ROOT / "plugins/execblog/theme/static/css/diagrams.css").read_text()
    assert '[data-theme="dark"]' in css and "prefers-color-scheme: dark" in css
    assert re.search(r"figure\.diagram svg[^{]*\{[^}]*max-width:\s*100%[^}]*height:\s*auto", css)
    for cls in ("diagram-stroke", "diagram-text", "diagram-halo"):
        assert f".{cls}" in css


# -- escaping ------------------------------------------------------------------------------


def test_text_is_xml_escaped_everywhere():
    spec = {
        "items": [
            {"type": "box", "text": "a < b & c"},
            {"type": "cells", "label": "<i>", "cells": ['x > "y"', "\x01ok"]},
        ]
    }
    svg = render(spec, caption="1 < 2 & <script>")
    assert "a &lt; b &amp; c" in svg and "<script>" not in svg and "<i>" not in svg
    root = tree(svg)  # parses as XML
    assert {"a < b & c", "<i>", 'x > "y"', "ok"} <= set(texts(svg))
    assert root.get("aria-label") == "1 < 2 & <script>"


# -- arrows --------------------------------------------------------------------------------


def _routes(spec: dict):
    diagram = parse(json.dumps(spec))
    nodes = layout(diagram)
    found = anchors(nodes)
    pairs = [(found[a.source], found[a.target]) for a in diagram.arrows]
    return pairs, route_all(pairs, obstacles(nodes, diagram.font), frames(nodes))


def _inside(point, rect) -> bool:
    return rect.x < point[0] < rect.right and rect.y < point[1] < rect.bottom


def _frame_crossings(route, frame) -> int:
    inside = [_inside(p, frame) for p in route.polyline()]
    return sum(a != b for a, b in zip(inside, inside[1:], strict=False))


@pytest.mark.parametrize("target", ["k0", "k1", "k2"])
@pytest.mark.parametrize("group_first", [True, False])
@pytest.mark.parametrize("direction", ["right", "down"])
def test_an_arrow_into_a_group_crosses_its_frame_once(target, group_first, direction):
    """An arrow from outside a group to a shape in it crosses the frame once: it does not
    go in, out again and loop back in from the far side (src -> k1 with the group first
    took src's left side to k1's top: three crossings)."""
    kids = [{"id": f"k{i}", "type": "box", "text": f"kid {i}"} for i in range(3)]
    items = [{"id": "g", "type": "group", "label": "Frame", "direction": "right",
              "items": kids}, {"id": "src", "type": "box", "text": "source"}]
    spec = {"direction": direction, "items": items if group_first else items[::-1],
            "arrows": [{"from": "src", "to": target}, {"from": target, "to": "src"}]}
    diagram = parse(json.dumps(spec))
    (frame,) = frames(layout(diagram))
    _, routes = _routes(spec)
    assert [_frame_crossings(route, frame) for route in routes] == [1, 1]


def test_arrow_between_cells_by_id_and_by_index():
    by_id = json.loads(ISSUE_EXAMPLE)
    by_index = json.loads(ISSUE_EXAMPLE)
    by_index["arrows"][0]["from"] = "stack.2"
    assert render(by_id) == render(by_index)
    (pair,), (route,) = _routes(by_id)
    source, target = pair
    assert route.start[0] > source.rect.right  # leaves from the side facing the node
    assert route.end[0] < target.rect.x
    assert source.rect.y < route.start[1] < source.rect.bottom  # at the p cell


def test_arrows_never_cross_the_shapes_they_connect():
    spec = {
        "items": [
            {"id": "s", "type": "cells", "orient": "vertical", "cells": ["a", "b", "c", "d"]},
            {"id": "row", "type": "cells", "cells": ["x", "y", "z"], "y": 200},
            {"id": "n", "type": "box", "text": "N"},
        ],
        "arrows": [
            {"from": "s.0", "to": "s.3"},
            {"from": "row.1", "to": "s.2"},
            {"from": "n", "to": "row.2"},
            {"from": "s.1", "to": "n"},
        ],
    }
    pairs, routes = _routes(spec)
    nodes = layout(parse(json.dumps(spec)))
    bodies = [n.body for n in nodes]
    for route in routes:
        for point in route.polyline()[1:-1]:
            assert not any(_inside(point, body) for body in bodies), route


def test_arrow_label_style_and_heads():
    base = {
        "items": [{"id": "a", "type": "box", "text": "A"}, {"id": "b", "type": "box", "text": "B"}]
    }
    plain = render({**base, "arrows": [{"from": "a", "to": "b"}]})
    dashed = render(
        {
            **base,
            "arrows": [
                {"from": "a", "to": "b", "style": "dashed", "label": "x < y", "heads": "both"}
            ],
        }
    )
    assert "stroke-dasharray" not in plain and 'stroke-dasharray="8 6"' in dashed
    assert texts(dashed)["x < y"].get("paint-order") == "stroke"
    assert len(paths(dashed)) == len(paths(plain)) + 2  # two more arrowhead strokes
    none = render({**base, "arrows": [{"from": "a", "to": "b", "heads": "none"}]})
    assert len(paths(none)) == len(paths(plain)) - 2


def test_arrow_to_a_group_and_into_it():
    spec = {
        "items": [
            {"id": "x", "type": "box", "text": "X"},
            {"id": "g", "type": "group", "items": [{"id": "y", "type": "text", "text": "Y"}]},
        ],
        "arrows": [{"from": "x", "to": "g"}, {"from": "x", "to": "y"}],
    }
    assert tree(render(spec)) is not None


# -- errors --------------------------------------------------------------------------------


def test_invalid_json_gives_line_and_column():
    err = error('{\n  "items": [\n    {"type": "box" "text": "x"}\n  ]\n}')
    assert (err.line, err.column) == (3, 20)
    assert "invalid JSON" in str(err) and err.key is None


def test_unknown_item_type_names_key_path_line_and_allowed_values():
    err = error('{"items": [\n  {"type": "box"},\n  {"type": "circle"}\n]}')
    assert err.key == "items[1].type" and err.line == 3
    assert str(err) == "items[1].type: unknown type 'circle' (allowed: box, cells, text, group)"


def test_unknown_key_lists_allowed_keys():
    err = error('{"items": [\n {"type": "cells", "cells": [\n  {"text": "a", "colour": "red"}]}]}')
    assert err.key == "items[0].cells[0].colour" and err.line == 3
    assert "unknown key 'colour'" in err.message and "fill, id, text" in err.message
    err = error({"items": [], "colours": 1})
    assert err.key == "colours" and "font-size" in err.message


def test_bad_values_list_what_is_allowed():
    err = error({"items": [{"type": "cells", "cells": ["a"], "orient": "diagonal"}]})
    assert err.key == "items[0].orient" and "horizontal, vertical" in err.message
    err = error({"direction": "up", "items": []})
    assert err.key == "direction" and "right, down" in err.message
    err = error({"roughness": -1, "items": []})
    assert err.key == "roughness" and ">= 0" in err.message
    err = error({"items": [{"type": "box", "fill": "red; x"}]})
    assert err.key == "items[0].fill" and "CSS colour" in err.message
    err = error({"items": [{"text": "no type"}]})
    assert err.key == "items[0]" and "missing key 'type'" in err.message
    assert "missing key 'items'" in error({}).message


def test_arrow_to_unknown_id_names_it_and_lists_known_ids():
    err = error(
        '{"items": [{"id": "a", "type": "box"}, {"id": "b", "type": "box"}],\n'
        ' "arrows": [\n  {"from": "a",\n   "to": "nope"}]}'
    )
    assert err.key == "arrows[0].to" and err.line == 4
    assert "'nope'" in err.message and "known ids: a, b" in err.message
    err = error(
        {
            "items": [{"id": "s", "type": "cells", "cells": ["x", {"id": "p", "text": "y"}]}],
            "arrows": [{"from": "s.q", "to": "s.5"}],
        }
    )
    assert err.key == "arrows[0].from" and "s.0, s.1, s.p" in err.message
    err = error({"items": [{"id": "b", "type": "box"}], "arrows": [{"from": "b.0", "to": "b"}]})
    assert "only 'cells' items have cells" in err.message


def test_duplicate_ids_and_keys():
    err = error(
        '{"items": [\n {"id": "a", "type": "box"},\n {"type": "group", "items": [\n'
        '  {"id": "a", "type": "text"}]}]}'
    )
    assert err.key == "items[1].items[0].id" and err.line == 4
    assert "duplicate id 'a'" in err.message and "items[0]" in err.message
    err = error({"items": [{"id": "s", "type": "cells", "cells": [{"id": "x"}, {"id": "x"}]}]})
    assert err.key == "items[0].cells[1].id"
    err = error('{"items": [],\n "seed": 1,\n "seed": 2}')
    assert "duplicate key 'seed'" in str(err) and err.line == 3


def test_same_bytes_across_processes_with_different_hash_seeds(tmp_path):
    import os
    import subprocess

    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); from execblog.diagrams import render_diagram;"
        "sys.stdout.write(render_diagram(sys.stdin.read(), caption='c'))"
    )
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", script, str(ROOT / "plugins")],
            input=ISSUE_EXAMPLE,
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == render(ISSUE_EXAMPLE, caption="c")


def test_hidden_feed_image_stays_hidden_in_pages():
    css = (ROOT / "plugins/execblog/theme/static/css/diagrams.css").read_text()
    assert re.search(r"figure\.diagram img\[hidden\]\s*\{\s*display:\s*none", css)


@pytest.mark.parametrize(("source", "line", "words"), [
    ('{\n  "items": [\n    {"type": "text", "text": "a"},\n  ]\n}', 3, "a comma after the last"),
    ('{\n  items: []\n}', 2, 'a key without quotes: write "items"'),
    ("{\n  'items': []\n}", 2, "single quotes"),
    ('{\n  "items": []\n  "title": "x"\n}', 2, "a comma is missing"),
    ('{\n  "items": [],\n  "title": "x\n}', 3, "no closing double quote"),
    ('{\n  "items": True\n}', 2, "True is Python: JSON writes true"),
    ('{\n  "items": [\n', 3, "ends early"),
])
def test_json_mistakes_are_named_where_they_are(source, line, words):
    """The line of the mistake itself (a trailing comma's, not the bracket after it) and a
    plain-words hint, not the decoder's own terms."""
    with pytest.raises(DiagramError) as info:
        LocatedJSON(source)
    assert info.value.line == line and words in str(info.value), str(info.value)
    assert "Expecting" not in str(info.value)


def test_an_arrow_into_a_group_suggests_the_childs_own_id():
    source = json.dumps({"items": [
        {"type": "group", "id": "stack", "items": [{"type": "box", "id": "frame", "text": "f"}]},
        {"type": "box", "id": "heap", "text": "h"}],
        "arrows": [{"from": "stack.frame", "to": "heap"}]})
    err = error(source)
    assert err.key == "arrows[0].from"
    assert "write 'frame'" in str(err)
    typo = error(source.replace('"stack.frame"', '"heep"'))
    assert "did you mean 'heap'?" in str(typo)
