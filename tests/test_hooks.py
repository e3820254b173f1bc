"""The hook contract: a third-party plugin uses every hook; the meta-test keeps it honest."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest
from conftest import ROOT, auto_backend, cupy_installed, run_pelican, write_files
from execblog.engine import hookspecs

PLUGIN = '''
from execblog.engine import hookimpl
from execblog.engine.backends import BackendCandidate
from execblog.engine.model import FenceKind, Output


class Loud:
    def __init__(self, text):
        self.text = text


def run_shout(fence, session):
    session.emit(Output("text/x-shout", fence.code.upper()))


@hookimpl
def fences_kinds():
    return [FenceKind(name="shout", language="shout", run=run_shout, uses_backend=False)]


@hookimpl
def fences_backend_candidates():
    return [BackendCandidate(name="abacus", preference=5, installed=lambda: False,
                             probe=lambda: None)]


@hookimpl
def fences_session_setup(namespace):
    namespace["Loud"] = Loud


@hookimpl
def fences_format_value(value):
    if isinstance(value, Loud):
        return [Output("text/x-shout", value.text.upper())]
    return None


@hookimpl
def fences_capture_outputs(namespace, options):
    if namespace.get("leave_a_note"):
        return [Output("text/plain", "note left behind")]
    return []


@hookimpl
def fences_render_output(output, context):
    if output.mime == "text/x-shout":
        return f'<p class="shout">{output.data}!</p>'
    return None


@hookimpl
def fences_build_finished(report):
    import os
    with open(os.environ["HOOK_REPORT_COPY"], "w") as fh:
        import json
        json.dump(report["summary"], fh)
'''

POST = """
    Title: Hooks
    Date: 2026-04-01

    ```shout
    hello
    ```

    ```python exec
    leave_a_note = bool(xp.ones(1).sum())  # computes with xp: labelled with what auto gives
    Loud("quiet")
    ```
    """


def test_a_third_party_plugin_can_use_every_hook(tmp_path):
    write_files(tmp_path / "lib", {"shoutplugin.py": PLUGIN})
    write_files(tmp_path / "content", {"posts/hooks.md": POST})
    copy = tmp_path / "summary.json"
    proc = run_pelican(
        tmp_path / "content", tmp_path / "out",
        settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                  "FENCES_PLUGINS": ["shoutplugin"]},
        env={"PYTHONPATH": str(tmp_path / "lib"), "HOOK_REPORT_COPY": str(copy)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (tmp_path / "out/posts/hooks/index.html").read_text()
    assert '<p class="shout">HELLO!</p>' in html  # fences_kinds + fences_render_output
    assert '<p class="shout">QUIET!</p>' in html  # fences_session_setup + fences_format_value
    assert "note left behind" in html  # fences_capture_outputs
    assert json.loads(copy.read_text())["ran"] == 2  # fences_build_finished
    report = json.loads((tmp_path / "cache/report.json").read_text())
    assert [f["kind"] for f in report["fences"]] == ["shout", "python"]
    # fences_backend_candidates: the extra candidate is consulted and passed over
    missing = ", ".join([*([] if cupy_installed() else ["cupy"]), "abacus"])
    (ran_on,) = re.findall(r"^fences: ran on (.*)$", proc.stdout, flags=re.M)
    assert ran_on.startswith("NumPy (" if auto_backend() == "numpy" else "CuPy · ")
    assert ran_on.endswith(f" ({missing} not installed)")
    assert report["fences"][1]["backend"] == auto_backend()


def test_a_misspelled_hook_fails_loudly(tmp_path):
    write_files(tmp_path / "lib", {"typo.py": "from execblog.engine import hookimpl\n\n"
                                              "@hookimpl\ndef fences_kindz():\n    return []\n"})
    write_files(tmp_path / "content", {"posts/a.md": "Title: A\nDate: 2026-04-02\n\nText.\n"})
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_PLUGINS": ["typo"]},
                       env={"PYTHONPATH": str(tmp_path / "lib")})
    assert proc.returncode != 0
    assert "fences_kindz" in proc.stdout + proc.stderr


HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
         if name.startswith("fences_")]


def test_the_contract_has_hooks():
    assert len(HOOKS) >= 7


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_documents_where_arguments_result_builtins_and_an_example(hook):
    """datasette's standard: for each hook where it runs, every argument, the return rule,
    the built-ins that implement it, and an example."""
    function = getattr(hookspecs, hook)
    doc = inspect.getdoc(function) or ""
    for section in ("Where: ", "Arguments:", "Returns: ", "Built-ins: ", "Example"):
        assert f"\n{section}" in doc, f"{hook}: no {section.strip()} section"
    arguments = doc.split("Arguments:")[1].split("\nReturns: ")[0]
    for name in inspect.signature(function).parameters:
        assert f"``{name}``" in arguments, f"{hook}: argument {name} is not documented"
    example = doc.split("Example")[1]
    assert f"def {hook}(" in example, f"{hook}: the example implements another hook"


def test_every_builtin_plugin_is_an_entry_point_and_nothing_else_registers():
    """One way to register: Execblog's own plugins are entries of the ``pelican_fences``
    group, as a third party's are; every module of the package that implements a hook is
    one of them."""
    from execblog.engine import manager

    names = {ep.name for ep in manager.plugin_entry_points()
             if manager._distribution(ep) == manager.DISTRIBUTION}
    package = ROOT / "plugins" / "execblog"
    implementing = {
        ".".join(path.relative_to(ROOT / "plugins").with_suffix("").parts).removesuffix(
            ".__init__")
        for path in package.rglob("*.py")
        if "@hookimpl" in path.read_text() and path.name != "hookspecs.py"
    }
    assert implementing == names
    assert not hasattr(manager, "BUILTIN_PLUGINS")


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_and_tested(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc.split()) >= 15, f"{hook} needs a real docstring"
    tests = [p for p in (ROOT / "tests").glob("test_*.py") if p.name != Path(__file__).name]
    this = Path(__file__).read_text()
    body = this.split("HOOKS = ")[0]  # the plugin above counts as a test of each hook
    assert any(hook in p.read_text() for p in tests) or f"def {hook}(" in body, \
        f"{hook} has no test"


def named_strings(path: Path, skip: frozenset[str] = frozenset()) -> set[str]:
    """The string constants of a module's code: docstrings and the assignments to the
    names in ``skip`` left out."""
    import ast

    tree = ast.parse(path.read_text())
    left_out = [node.value for node in ast.walk(tree) if isinstance(node, ast.Expr)]
    left_out += [node for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and {getattr(t, "id", None) for t in node.targets} & skip]
    ignored = {id(inner) for node in left_out for inner in ast.walk(node)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in ignored}


def test_the_engine_core_names_no_backend_and_no_kind():
    """Kinds and backends are plugins: outside their own folders (kinds/, backends/) the
    kernel, the engine, the executors and display hold none of their names as a string. Nor
    does the notebook writer (formats/notebooks/convert.py), which reads how a kind appears in
    a notebook from the kind (``FenceKind.notebook_cell``); the one language it names
    is its kernel's (KERNELSPEC)."""
    from execblog.engine.manager import make_manager

    kinds = [k for found in make_manager().hook.fences_kinds() for k in found]
    names = {"numpy", "cupy", "torch", "jax", "python", "bash", "diagram", "cuda", "cpp",
             "rust", *(k.name for k in kinds), *(a for k in kinds for a in k.aliases)}
    package = ROOT / "plugins" / "execblog"
    checked = [path for folder in ("kernel", "engine", "executors", "display")
               for path in (package / folder).rglob("*.py")]
    checked.append(package / "formats" / "notebooks" / "convert.py")
    assert len(checked) > 40
    for path in checked:
        found = named_strings(path, frozenset({"KERNELSPEC"}))
        assert not found & names, f"{path.name} names {found & names}"
    # the check sees a kind's name where a module holds one
    assert "bash" in named_strings(package / "kinds" / "languages" / "bash.py") & names


def test_a_resumable_executor_is_a_protocol():
    from execblog.engine.hookspecs import Executor, ResumableExecutor
    from execblog.executors.local.pool import SessionPool

    pool = SessionPool(1, [], 60.0)
    assert isinstance(pool, Executor) and isinstance(pool, ResumableExecutor)
    assert pool.snapshots is None  # until a held executor is told to keep them


def test_feeds_read_the_role_an_output_declares_not_other_packages_classes():
    """feedkit acts on ``data-feed`` roles (fences.model.feed_role), never on the classes of
    the packages that render outputs (figures, diagrams, parameter grids)."""
    from execblog.engine.model import FEED_DROP, FEED_ONLY, FEED_STATIC, feed_role
    from execblog.formats.feeds.rewrite import EntryRewriter

    classes = {"fig-dark", "fig-light", "fence-figure", "fence-subfigure", "diagram",
               "diagram-feed", "diagram-scroll", "params-controls", "params-fence", "bench",
               "num"}
    feeds = sorted((ROOT / "plugins" / "execblog" / "formats" / "feeds").glob("*.py"))
    assert feeds
    for path in feeds:
        found = named_strings(path)
        assert not found & classes, f"formats/feeds/{path.name} names {found & classes}"
    html = (f'<div class="any"{feed_role(FEED_DROP)}><input></div>'
            f'<img src="/a.svg" alt="a" loading="lazy" hidden{feed_role(FEED_ONLY)}>'
            f'<div data-states="{{}}" data-src="/s.html"{feed_role(FEED_STATIC)}><p>kept</p></div>')
    out = EntryRewriter()(html, "")
    assert out == '<img src="/a.svg" alt="a"><div><p>kept</p></div>'
    with pytest.raises(ValueError, match="unknown feed role 'hide'"):
        feed_role("hide")
