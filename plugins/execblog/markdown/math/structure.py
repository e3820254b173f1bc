"""What MathML's schema requires of an element's children, as a check of a whole tree.

MathML Core and the Nu checker's schema give the script, fraction and radical elements a
fixed number of children (``msub`` a base and a subscript...); a browser draws anything else
as an error or garbles it (``<msub><mi>log</mi><mspace/><mn>2</mn></msub>`` reads
"log 2"). ``mspace`` is a row's spacing: never one of those fixed children. The converter
checks its own output with :func:`structure_problems`, and the tests check every page.
"""

from __future__ import annotations

from lxml import etree

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
# Elements with a fixed number of children, and how many (MathML Core, section 3).
ARITY = {"msub": 2, "msup": 2, "msubsup": 3, "mfrac": 2, "mroot": 2, "munder": 2,
         "mover": 2, "munderover": 3}


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def structure_problems(root: etree._Element) -> list[str]:
    """Every place in the tree below ``root`` (a ``math`` element, or any element holding
    some) where an element has the wrong number of children or an ``mspace`` as a fixed
    child; empty when the MathML is sound."""
    problems = []
    for element in root.iter():
        name = _local(element)
        if name not in ARITY:
            continue
        children = [child for child in element if isinstance(child.tag, str)]
        if len(children) != ARITY[name]:
            shown = " ".join(f"<{_local(c)}>" for c in children) or "none"
            problems.append(f"<{name}> has {len(children)} children ({shown}); "
                            f"it takes {ARITY[name]}")
        elif any(_local(child) == "mspace" for child in children):
            problems.append(f"<{name}> has an <mspace> as one of its {ARITY[name]} children")
    return problems


__all__ = ["ARITY", "structure_problems"]
