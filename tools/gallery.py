"""Turn a sphinx-gallery folder (matplotlib's ``galleries/examples``) into blog posts.

Each example becomes one post: its docstring and text cells become prose, each code cell a
``python exec`` fence of the post's one session, as sphinx-gallery runs them. ``invoke bench
--corpus DIR`` builds such a site to measure a real external corpus beside the synthetic one.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
from pathlib import Path

# interactive examples: they need a GUI event loop, a timer or a widget to show anything
SKIPPED_FOLDERS = {"animation", "event_handling", "user_interfaces", "widgets"}
CELL_MARK = re.compile(r"^(# ?%%|#{20,})")
RST_RULE = re.compile(r"[=\-~^*#]{3,}")


def cells(source: str) -> tuple[str, list[tuple[str, str]]]:
    """The example's docstring and its cells as (prose, code) pairs, in order."""
    tree = ast.parse(source)
    doc = ast.get_docstring(tree) or ""
    lines = source.splitlines()
    start = 0
    if doc and tree.body and isinstance(tree.body[0], ast.Expr):
        start = tree.body[0].end_lineno or 0
    out: list[tuple[str, str]] = []
    prose: list[str] = []
    code: list[str] = []
    in_text = False

    def flush() -> None:
        text = "\n".join(code).strip("\n")
        if text.strip() or prose:
            out.append(("\n".join(prose).strip(), text))
        prose.clear()
        code.clear()

    for line in lines[start:]:
        if CELL_MARK.match(line):
            flush()
            in_text = True
            continue
        if in_text and line.startswith("#"):
            prose.append(line[2:] if line.startswith("# ") else line[1:])
            continue
        in_text = False
        code.append(line)
    flush()
    return doc, [(p, c) for p, c in out if c.strip() or p]


def rst_to_markdown(text: str) -> str:
    """Enough of reStructuredText for prose: titles dropped, roles and literals as code."""
    kept = [line for line in text.splitlines() if not RST_RULE.fullmatch(line.strip())]
    body = "\n".join(kept)
    body = re.sub(r":\w+:(?:\w+:)?`~?([^`<]*?)(?: <[^>]*>)?`", r"`\1`", body)
    body = body.replace("``", "`")
    body = re.sub(r"^\.\. .*$", "", body, flags=re.M)
    return body.replace("$", r"\$")


def post_text(path: Path, index: int, exec_word: str = " exec") -> str:
    """One example as a Markdown post."""
    doc, parts = cells(path.read_text(encoding="utf-8"))
    lines = [ln for ln in doc.splitlines() if not RST_RULE.fullmatch(ln.strip())]
    title = next((ln.strip() for ln in lines if ln.strip()), path.stem)
    header = (f"Title: {title}\nDate: 2026-02-{index % 28 + 1:02d}\n"
              f"Tags: gallery, {path.parent.name}\nSlug: gallery-{path.parent.name}-{path.stem}\n")
    body = "\n".join(lines).strip().split("\n", 1)[1:]  # the title line dropped
    blocks = [header, rst_to_markdown("".join(body)).strip() + "\n"]
    for prose, code in parts:
        if prose:
            blocks.append(rst_to_markdown(prose) + "\n")
        if code.strip():
            blocks.append(f"```python{exec_word}\n{code}\n```\n")
    return "\n".join(blocks)


def examples(roots: list[Path], limit: int | None = None) -> list[Path]:
    """The non-interactive examples under ``roots``, sorted per root, at most ``limit``."""
    found = [p for root in roots for p in sorted(root.rglob("*.py"))
             if not SKIPPED_FOLDERS & set(p.relative_to(root).parts[:-1])]
    return found[:limit] if limit else found


def write_site(roots: list[Path], content: Path, limit: int | None = None,
               exec_word: str = " exec") -> int:
    """Write the examples under ``roots`` as posts, ``content/posts/<folder>/<name>.md``;
    how many. A module the examples of a folder import from it goes beside their posts:
    sphinx-gallery runs an example with its folder on ``sys.path`` (``units/`` imports
    ``basic_units``), and a fence runs with its post's folder first on it. Only those, and
    none named like a standard module (``shapes_and_collections/collections.py``)."""
    chosen = examples(roots, limit)
    for i, path in enumerate(chosen):
        folder = content / "posts" / path.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{path.stem}.md").write_text(post_text(path, i, exec_word), encoding="utf-8")
    for source in sorted({path.parent for path in chosen}):
        for helper in helpers(source):
            shutil.copyfile(helper, content / "posts" / source.name / helper.name)
    return len(chosen)


def helpers(folder: Path) -> list[Path]:
    """The modules of ``folder`` that its examples import."""
    modules = {p.stem: p for p in folder.glob("*.py")}
    imported: set[str] = set()
    for path in modules.values():
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    # never one named like a standard module: on sys.path it would hide that module
    return sorted(modules[name] for name in imported & modules.keys()
                  if name not in sys.stdlib_module_names)
