"""mathkit's TeX -> MathML fixes, formula by formula (execblog/markdown/math/converter.py), and the
page-level numbering and references (pages.py), without a build."""

from __future__ import annotations

import pytest
from execblog.markdown.math.converter import (
    Converted,
    MathConverter,
    convert_tex,
    sound_markup,
    split_delimiters,
    tex_fallback,
)
from execblog.markdown.math.font import glyph_text, styled_letter
from execblog.markdown.math.pages import convert_page
from lxml import etree

M = "{http://www.w3.org/1998/Math/MathML}"


def tree(tex: str, display: bool = False) -> etree._Element:
    result = convert_tex(tex, display)
    assert result.ok, result.error
    return etree.fromstring(result.markup)


def texts(root: etree._Element, tag: str) -> list[str]:
    return [e.text or "" for e in root.iter(f"{M}{tag}")]


def test_overline_is_a_stretchy_accent_not_a_horizontal_bar():
    root = tree(r"\overline{z + w}")
    (over,) = root.iter(f"{M}mover")
    assert over.get("accent") == "true"
    bar = over[1]
    assert bar.tag == f"{M}mo" and bar.text == "\u00af" and bar.get("stretchy") == "true"
    assert "\u2015" not in etree.tostring(root, encoding="unicode")


def test_mathrm_letters_are_upright():
    root = tree(r"e^{2\pi \mathrm{i} k/n} \, \mathrm{d}x")
    upright = [e.text for e in root.iter(f"{M}mi") if e.get("mathvariant") == "normal"]
    assert upright == ["i", "d"]
    assert "x" in [e.text for e in root.iter(f"{M}mi") if e.get("mathvariant") is None]
    (fl,) = [e for e in tree(r"\mathrm{fl}(a)").iter(f"{M}mi") if e.text != "a"]
    assert fl.text == "fl"  # one identifier, upright (several letters)


def test_operatorname_is_an_upright_name_with_a_thin_space():
    single = tree(r"\operatorname{E} X")
    (name,) = [e for e in single.iter(f"{M}mi") if e.text == "E"]
    assert name.get("mathvariant") == "normal"
    root = tree(r"\operatorname{polar}(A) + \cos\alpha + \arg z")
    assert {"polar", "cos", "arg"} <= set(texts(root, "mi"))
    assert "polar" not in texts(root, "mo")  # not spaced as a binary operator
    spaces = [e.getprevious().text for e in root.iter(f"{M}mspace")]
    assert spaces == ["cos", "arg"]  # thin space before an argument, none before "("


@pytest.mark.parametrize("tex,size", [(r"\bigl(", "1.2em"), (r"\Bigr]", "1.623em"),
                                      (r"\bigg|", "2.047em"), (r"\big/", "1.2em")])
def test_sized_delimiters_stretch_to_a_fixed_size(tex, size):
    (mo,) = tree(tex + " x").iter(f"{M}mo")
    assert (mo.get("minsize"), mo.get("maxsize")) == (size, size)
    assert mo.get("stretchy") == "true" and mo.get("symmetric") == "true"


def test_bars_do_not_grow_with_the_row():
    root = tree(r"\lVert q \rVert^2 + |x|")
    bars = [e for e in root.iter(f"{M}mo") if e.text in ("\u2016", "|")]
    assert len(bars) == 4
    assert all(b.get("stretchy") == "false" and b.get("lspace") == "0" for b in bars)


def test_label_tag_and_refs_leave_the_formula():
    result = convert_tex(r"E = mc^2 \label{eq:energy} \tag{E1}", True)
    assert (result.label, result.tag) == ("eq:energy", "(E1)")
    root = etree.fromstring(result.markup)
    assert "".join(root.itertext()) == "E=mc2"  # no "\\label", "eq:energy" or "(E1)" text
    assert root.get("alttext") == r"E = mc^2 \label{eq:energy} \tag{E1}"
    starred = convert_tex(r"x \tag*{A} \nonumber", True)
    assert starred.tag == "A" and "".join(etree.fromstring(starred.markup).itertext()) == "x"
    ref = convert_tex(r"x = \eqref{a} + \ref{b}", False)
    assert ref.refs == [("eqref", "a"), ("ref", "b")]
    assert "".join(etree.fromstring(ref.markup).itertext()) == "x=(?)+?"  # pages fills in


def test_environments_latex2mathml_lacks():
    root = tree(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", True)
    assert len(list(root.iter(f"{M}mtr"))) == 2
    numbered = tree(r"\begin{align} a &= b \end{align}", True)
    assert "(1)" not in texts(numbered, "mtext")  # not numbered line by line


@pytest.mark.parametrize("tex,why", [
    (r"\text{a<b}", "not well-formed"),
    (r"\frobnicate x", r"unsupported command \frobnicate"),
    (r"\frac{1}{", ""),
])
def test_unconvertible_formulas_fall_back_to_code(tex, why):
    result = convert_tex(tex, False)
    assert not result.ok and why in (result.error or "")
    code = etree.fromstring(result.markup)
    assert code.tag == "code" and code.get("class") == "math-tex" and code.text == tex


def test_split_delimiters():
    assert split_delimiters(r"\(x\)") == ("x", False)
    assert split_delimiters("$$\ny\n$$") == ("y", True)
    assert split_delimiters(r"\begin{align*}a\end{align*}") == (r"\begin{align*}a\end{align*}",
                                                                 True)
    assert split_delimiters("plain") is None


def test_styled_letters_for_the_font_subset():
    assert styled_letter("x") == "\U0001d465" and styled_letter("h") == "\u210e"
    assert styled_letter("\u03b1") == "\U0001d6fc" and styled_letter("1") == "1"
    assert styled_letter("x", "bold-italic") == "\U0001d499"
    chars = glyph_text(convert_tex(r"\sqrt{x} + \overline{y}", False).markup)
    assert {"x", "\U0001d465", "\u221a", "\u00af", "+"} <= chars


PAGE = (
    '<div class="math">$$E = mc^2 \\label{eq:e}$$</div>\n'
    '<div class="xref-equation" id="eq-f"><div class="math">$$F = ma$$</div>'
    '<span class="eq-number">(1)</span></div>\n'
    '<div class="math">$$p = mv \\tag{P}$$</div>\n'
    '<p>See <span class="math">\\(\\eqref{eq:e}\\)</span>, '
    '<span class="math">\\(\\ref{eq-f}\\)</span>, <span class="math">\\(x = \\eqref{P}\\)</span>'
    ' and <span class="math">\\(\\eqref{eq:none}\\)</span>.</p>'
    '<pre>&lt;span class="math"&gt;\\(x\\)&lt;/span&gt;</pre>'
)


def test_page_numbers_links_and_unknown_references():
    result = convert_page(PAGE, MathConverter())
    html = etree.fromstring(f"<div>{result.html}</div>", etree.HTMLParser()).find(".//div")
    assert result.numbers == {"eq-f": "(1)", "eq:e": "(2)"}
    labelled = html.xpath('//div[@class="xref-equation" and @id="eq:e"]')[0]
    assert labelled.xpath('./span[@class="eq-number"]/text()') == ["(2)"]
    assert labelled.xpath('./div[@class="math"]/math')
    tagged = html.xpath('//div[@class="xref-equation" and not(@id)]')[0]
    assert tagged.xpath('./span[@class="eq-number"]/text()') == ["(P)"]
    links = [(a.get("href"), a.text) for a in html.xpath('//a[@class="xref"]')]
    assert links == [("#eq:e", "(2)"), ("#eq-f", "1")]
    assert [p.message for p in result.problems] == [
        "unknown equation label in \\eqref{P}: no \\label or {#P} in this post",
        "unknown equation label in \\eqref{eq:none}: no \\label or {#eq:none} in this post"]
    assert '&lt;span class="math"&gt;\\(x\\)&lt;/span&gt;' in result.html  # code untouched
    summary = convert_page('<p><span class="math">\\(\\eqref{eq:e}\\)</span></p>',
                           MathConverter(), numbers=result.numbers, links=False)
    assert summary.html == '<p><span class="xref">(2)</span></p>'


# -- the formula store ---------------------------------------------------------------------------

def test_stored_conversions_must_be_sound_markup():
    """What the formula store may hand to a page: MathML elements only, no event handler or
    link; a failure is exactly the escaped TeX."""
    good = convert_tex(r"\overline{z} + \mathrm{i}\,\sum_{k=1}^n k", True)
    assert sound_markup(r"\overline{z} + \mathrm{i}\,\sum_{k=1}^n k", good)
    bad = convert_tex(r"\frobnicate y", False)
    assert not bad.ok and sound_markup(r"\frobnicate y", bad)
    assert not sound_markup("x", Converted("<b>x</b>", error="why"))
    assert sound_markup("<x>", Converted(tex_fallback("<x>"), error="why"))
    markup = good.markup
    for planted in (markup.replace("<mi>", '<mi onclick="alert(1)">', 1),
                    markup.replace("<mi>", '<mrow href="javascript:alert(1)"><mi>', 1)
                    .replace("</mi>", "</mi></mrow>", 1),
                    markup.replace("<mi>", '<img xmlns="http://www.w3.org/1999/xhtml" '
                                   'src="x"/><mi>', 1),
                    markup + "<script>alert(1)</script>",
                    "<b>x</b>", "not markup <"):
        assert not sound_markup("x", Converted(planted)), planted


def test_the_store_is_kept_with_a_checksum_and_refused_when_edited(tmp_path, capsys):
    from execblog.kernel.store import seal, unseal

    store = tmp_path / "mathkit" / "formulas.json"
    first = MathConverter(store)
    assert first("x^2", False).startswith("<math")
    first.save()
    data = store.read_bytes()
    payload = unseal(store.name, data)

    assert len(MathConverter(store)) == 1  # read back
    assert len(MathConverter(store, load=False)) == 0  # FENCES_MODE = "rerun"
    assert capsys.readouterr().err == ""
    store.write_bytes(data.replace(b"<mn>2</mn>", b"<mn>3</mn>"))  # checksum now wrong
    assert len(MathConverter(store)) == 0
    assert f"{store.name}: warning: corrupt derived file" in capsys.readouterr().err
    planted = payload.replace(b"<mi>", b'<mi onclick=\\"alert(1)\\">', 1)
    assert planted != payload
    store.write_bytes(seal(store.name, planted))  # a recomputed checksum
    assert len(MathConverter(store)) == 0
    assert "is not this converter's" in capsys.readouterr().err


# -- valid MathML: scripts and fractions keep their fixed number of children ------------------
SCRIPTED_FUNCTIONS = [r"5n\log_2 n", r"\max_i x_i", r"\sin^2 x", r"\lim_{n\to\infty} a_n",
                      r"\operatorname{tr}^2 A", r"\min_{x \in S} f(x)", r"\log_{10} 1000 = 3",
                      r"\cos^{2}\theta + \sin^2\theta = 1", r"\max_i \sigma_i^2"]


@pytest.mark.parametrize("tex", SCRIPTED_FUNCTIONS)
@pytest.mark.parametrize("display", [False, True])
def test_function_with_a_script_keeps_its_two_children(tex, display):
    from execblog.markdown.math.structure import ARITY, structure_problems

    root = tree(tex, display)
    assert structure_problems(root) == []
    for element in root.iter(*(f"{M}{name}" for name in ARITY)):
        assert f"{M}mspace" not in [child.tag for child in element]
    # the thin space before the argument is still there, after the scripted name
    assert root.find(f".//{M}mspace") is not None


def test_log_2_n_reads_log_sub_2_then_n():
    root = tree(r"5n\log_2 n")
    (sub,) = root.iter(f"{M}msub")
    assert [(c.tag, c.text) for c in sub] == [(f"{M}mi", "log"), (f"{M}mn", "2")]
    after = sub.getnext()
    assert after.tag == f"{M}mspace" and after.getnext().text == "n"


def test_structure_check_finds_wrong_arity_and_script_spaces():
    from execblog.markdown.math.structure import structure_problems

    bad = etree.fromstring(f'<math xmlns="{M[1:-1]}"><msub><mi>log</mi><mspace/><mn>2</mn>'
                           "</msub><mfrac><mn>1</mn></mfrac><msup><mi>x</mi><mspace/></msup>"
                           "</math>")
    problems = structure_problems(bad)
    assert len(problems) == 3
    assert "<msub> has 3 children (<mi> <mspace> <mn>); it takes 2" in problems[0]
    assert "<mfrac> has 1 children" in problems[1] and "<mspace>" in problems[2]


def test_inline_math_keeps_its_punctuation_on_its_line():
    html = ('<p>Ends in <span class="math">\\(x_i\\)</span>. Then (<span class="math">\\(y'
            '\\)</span>), and <span class="math">\\(z\\)</span> alone.</p>'
            '<div class="math">$$a$$</div>.')
    page = convert_page(html, MathConverter())
    nowrap = page.html.count('<span class="math-nowrap">')
    assert nowrap == 2
    assert '<span class="math-nowrap"><span class="math"><math' in page.html
    assert "</math></span>.</span> Then " in page.html
    assert '<span class="math-nowrap">(<span class="math"><math' in page.html
    assert "</math></span>),</span> and " in page.html
    assert "</math></span> alone." in page.html  # a space after: nothing to keep together
    assert page.html.endswith("</math></div>.")  # display math is a block: never wrapped
