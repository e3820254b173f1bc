"""Same inputs, byte-identical pages: a re-run changes nothing a reader sees."""

from __future__ import annotations

import re

POST = """Title: Same bytes
Date: 2026-05-05

```python exec alt="A line"
import matplotlib.pyplot as plt
plt.plot([0, 1, 4])
```

```python exec
class Opaque:
    pass
Opaque()
```

```python exec
[Opaque(), Opaque()]
```

```python exec
display(Opaque())
print(Opaque())
```

```python exec
print("printed")
42
```
"""

ADDRESS = re.compile(r"at 0x[0-9a-fA-F]+")


def test_default_reprs_are_not_shown_and_a_rerun_gives_the_same_bytes(site):
    first = site({"posts/same.md": POST})
    assert first.returncode == 0, first.log
    page = first.read("posts/same-bytes/index.html")
    outputs = [o.get_text() for o in first.post("same-bytes").select(".fence-outputs")]
    # Only print() shows an address; displayed values (plt.plot's list of Line2D, an
    # object, a list of objects, display(obj)) are noise and are not shown.
    assert len(ADDRESS.findall(page)) == 1, outputs
    assert any("Opaque object at 0x" in o for o in outputs)
    assert any("printed" in o and "42" in o for o in outputs)
    shown = first.post("same-bytes").select(".fence-outputs a.fig-light img, .fence-outputs svg")
    assert len(shown) == 1  # one figure (and its dark rendering, hidden in light mode)

    again = site(settings={"FENCES_MODE": "rerun"})
    assert again.returncode == 0, again.log
    assert again.statuses() == ["ran"] * 5
    rerun = again.read("posts/same-bytes/index.html")
    stable = ADDRESS.sub("at 0x…", rerun)  # the one address print() asked for
    assert stable == ADDRESS.sub("at 0x…", page)
