"""Names of Execblog's parts from before they moved (execblog.renamed) still import, as the
very module of the new name, with one warning naming it; current names are not touched."""

from __future__ import annotations

import subprocess
import sys

import pytest
from execblog.renamed import RENAMED, new_name


@pytest.mark.parametrize(("old", "new"), [
    ("execblog.fences", "execblog.engine"),
    ("execblog.fences.model", "execblog.engine.model"),
    ("execblog.fences.worker", "execblog.executors.local.worker"),
    ("execblog.fences.builtin.mpl", "execblog.display.mpl"),
    ("execblog.langkit.cuda", "execblog.kinds.languages.cuda"),
    ("execblog.feedkit.rewrite", "execblog.formats.feeds.rewrite"),
    ("execblog.xmlsafe", "execblog.kernel.xmlsafe"),
])
def test_an_old_name_maps_by_its_longest_prefix(old: str, new: str) -> None:
    assert new_name(old) == new


@pytest.mark.parametrize("current", ["execblog", "execblog.engine.model", "execblog.diagrams",
                                     "execblog.fencesx", "numpy"])
def test_current_names_are_left_alone(current: str) -> None:
    assert new_name(current) is None


def test_every_new_name_is_a_module_of_the_package() -> None:
    import importlib.util

    for old, new in RENAMED.items():
        assert importlib.util.find_spec(f"execblog.{new}"), (old, new)


def test_an_old_import_is_the_new_module_and_warns_once() -> None:
    probe = ("import logging; logging.basicConfig(format='%(message)s')\n"
             "from execblog.fences import hookimpl\n"
             "from execblog.fences.model import FenceKind\n"
             "import execblog.engine.model as new, execblog.engine as engine\n"
             "assert FenceKind is new.FenceKind and hookimpl is engine.hookimpl\n"
             "import execblog.fences.model\n"
             "print('same')")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.strip() == "same", proc.stderr
    assert proc.stderr.splitlines() == [
        "execblog: execblog.fences is now execblog.engine; write the new name (the old one "
        "will go)",
        "execblog: execblog.fences.model is now execblog.engine.model; write the new name "
        "(the old one will go)"]
