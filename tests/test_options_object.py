"""Fence options are one frozen, typed object read by attribute (execblog.engine.options)."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from execblog.engine.manager import make_manager
from execblog.engine.model import Fence
from execblog.engine.options import (
    COMMON_OPTIONS,
    FenceOptions,
    kind_specs,
    result_options,
    validate,
)


@pytest.fixture(scope="module")
def kinds():
    return {k.name: k for ks in make_manager().hook.fences_kinds() for k in ks}


def _python(kinds, **raw: str) -> FenceOptions:
    return validate({name: (text, 3) for name, text in raw.items()},
                    kind_specs(kinds["python"]), {})


def test_the_options_are_typed_attributes_with_dashes_as_underscores(kinds):
    opts = _python(kinds, **{"fig-subcap": "[a, b]", "hl_lines": "2-3", "layout-ncol": "2",
                             "fig-width": "4", "echo": "fenced", "timeout": "5"})
    assert opts.fig_subcap == ("a", "b")
    assert opts.hl_lines == (2, 3)
    assert opts.layout_ncol == 2 and opts.fig_width == 4.0
    assert opts.echo == "fenced" and opts.timeout == 5
    assert opts.fold is False and opts.caption == "" and opts.fig_format == "auto"
    assert "fig_subcap" in dir(opts) and "params_default" in opts.attribute_names()


def test_aliases_are_resolved_to_the_canonical_names(kinds):
    opts = _python(kinds, **{"label": "fig-a", "fig-cap": "Curves", "code-fold": "show"})
    assert (opts.id, opts.caption, opts.fold) == ("fig-a", "Curves", "show")
    for alias in ("label", "fig-cap", "code-fold"):
        assert alias not in opts
        with pytest.raises(AttributeError):
            getattr(opts, alias.replace("-", "_"))


def test_the_options_are_frozen(kinds):
    opts = _python(kinds, caption="A")
    with pytest.raises(AttributeError, match="frozen"):
        opts.caption = "B"
    with pytest.raises(AttributeError, match="frozen"):
        del opts.caption
    with pytest.raises(TypeError):
        opts["caption"] = "B"  # type: ignore[index]
    changed = opts.updated({"echo": False})
    assert (opts.echo, changed.echo, changed.caption) == (True, False, "A")


def test_an_unknown_attribute_names_the_valid_ones(kinds):
    opts = _python(kinds)
    with pytest.raises(AttributeError, match="'flod' does not exist") as caught:
        opts.flod  # noqa: B018
    assert "fold" in str(caught.value) and "fig_subcap" in str(caught.value)
    diagram = validate({}, kind_specs(kinds["diagram"]), {})
    with pytest.raises(AttributeError, match="'fig_subcap'"):
        diagram.fig_subcap  # noqa: B018  (a kind that draws no figures does not take it)
    assert getattr(diagram, "fig_subcap", ()) == ()


def test_the_mapping_view_is_the_old_dict_and_keys_do_not_move(kinds):
    specs = kind_specs(kinds["python"])
    opts = _python(kinds, **{"fig-cap": "C", "include": "false", "inputs": "a.csv b.csv"})
    expected = {spec.name: spec.default for spec in specs}
    expected.update(caption="C", include=False, echo=False, output=False,
                    inputs=("a.csv", "b.csv"))
    assert dict(opts) == expected and opts == expected and len(opts) == len(specs)
    assert opts["caption"] == opts.get("caption") == "C"
    # the cache key is built from this view: same bytes as from the plain dict
    assert (json.dumps(result_options(opts, specs), sort_keys=True, default=str)
            == json.dumps(result_options(expected, specs), sort_keys=True, default=str))
    assert json.dumps(dict(opts), default=str)  # serialisable through the mapping view


def test_the_options_survive_pickling_and_a_plain_mapping_is_wrapped():
    opts = validate({"caption": ("x", 1)}, COMMON_OPTIONS, {})
    for copied in (pickle.loads(pickle.dumps(opts)), copy.deepcopy(opts)):
        assert isinstance(copied, FenceOptions) and copied == opts and copied.caption == "x"
    fence = Fence(path="/x/a.md", source="a.md", line=1, body_line=2, kind="python",
                  code="", exec_code="", options={"echo": False}, index=0)
    assert isinstance(fence.options, FenceOptions) and fence.options.echo is False
