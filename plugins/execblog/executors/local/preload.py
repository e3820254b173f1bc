"""Imported once by the fork server, so every session process starts warm.

NumPy, matplotlib (Agg, with a first SVG and PNG drawn so fonts and renderers are loaded)
and the built-in plugins are in memory before any session forks. CUDA is never touched
here: CuPy is imported only inside a session that asks for it. The backends named by
``FENCES_PRELOAD`` (``["torch"]``) are imported here too, by their candidate's ``warm``,
which never touches a device.

Ctrl-C reaches the fork server too (it is in the terminal's process group). Once serving,
multiprocessing ignores SIGINT there. Before that, the fork server starts with SIGINT
blocked (``fences.pool._ensure_fork_server``); here it is unblocked with a handler that ends
the fork server quietly, with no ``KeyboardInterrupt`` traceback on the terminal: the build
is stopping anyway. Sessions get the usual SIGINT handler back.
"""

import gc
import io
import os
import signal
import sys


def _leave_quietly(signum: int, frame: object) -> None:
    os._exit(128 + signum)


_sigint = signal.signal(signal.SIGINT, _leave_quietly)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a Ctrl-C held so far ends it
os.environ.setdefault("MPLBACKEND", "Agg")
from .pool import HOST_MAIN_VARIABLE, PRELOAD_VARIABLE  # noqa: E402

if os.environ.get(HOST_MAIN_VARIABLE):  # see fences.pool._main_script
    sys.modules["__main__"].__file__ = os.environ[HOST_MAIN_VARIABLE]

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402,F401

from execblog.display import mpl  # noqa: E402
from execblog.engine import manager, profiling  # noqa: E402

from . import worker  # noqa: E402,F401

mpl.configure_determinism()
_fig, _ax = plt.subplots()
_ax.plot([0, 1], [0, 1], label="warm-up")
_ax.set_title("$x^2$")
_ax.legend()
for _fmt in ("svg", "png"):
    _fig.savefig(io.BytesIO(), format=_fmt)
plt.close(_fig)
_pm = manager.make_manager()
_pm.hook.fences_kinds()  # kinds may import their libraries lazily (diagrams, rough...)
_warm = set(filter(None, os.environ.get(PRELOAD_VARIABLE, "").split(",")))
for _cands in _pm.hook.fences_backend_candidates():
    for _cand in _cands:
        if _cand.name in _warm and _cand.warm is not None and _cand.installed():
            _cand.warm()

# Everything imported so far lives as long as the fork server: move it out of the garbage
# collector's reach, so sessions do not copy those pages when a collection walks them.
gc.collect()
gc.freeze()
signal.signal(signal.SIGINT, _sigint)  # what sessions get back (multiprocessing restores it)
profiling.record("fork server: imports and warm-up", profiling.process_cpu())
