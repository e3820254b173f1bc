"""Imported once by the fork server, so every session process starts warm.

NumPy, matplotlib (Agg, with a first SVG and PNG drawn so fonts and renderers are loaded)
and the built-in plugins are in memory before any session forks. CUDA is never touched
here: CuPy is imported only inside a session that asks for it.
"""

import io
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402,F401

from . import manager, worker  # noqa: E402,F401
from .builtin import mpl  # noqa: E402

mpl.configure_determinism()
_fig, _ax = plt.subplots()
_ax.plot([0, 1], [0, 1], label="warm-up")
_ax.set_title("$x^2$")
_ax.legend()
for _fmt in ("svg", "png"):
    _fig.savefig(io.BytesIO(), format=_fmt)
plt.close(_fig)
manager.make_manager()
