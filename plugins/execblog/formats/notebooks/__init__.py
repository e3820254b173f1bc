"""Notebooks: every post with exec fences also becomes a Jupyter notebook next to its page.

A fence-engine plugin (``pelican_fences`` entry point ``notebooks``). Once a post's fences
are rendered (``fences_post_rendered``) it writes ``<slug>.ipynb`` (nbformat 4) in the
folder of the post's page and sets ``post.notebook_url``, which the theme turns into a
"Download notebook" link. What goes in it:

* the post's title as a heading, then its prose as Markdown cells (the Markdown source
  between fences, metadata header removed, math left as written: Jupyter typesets
  ``$...$`` and ``$$...$$``);
* each Python fence as a code cell with its outputs: streams, values (``text/plain``,
  ``text/html``, ``text/markdown``), figures (PNG as base64, SVG as text: the notebook is
  self-contained), errors (``ename``, ``evalue``, traceback lines). The code is always
  there (it is what a reader re-runs); ``echo=false`` or ``fold`` marks the cell's source
  hidden; ``output=false`` leaves its outputs out, as on the page;
* each bash fence as a ``%%bash`` code cell (IPython runs it in bash, as the build does);
  which fences become code cells, in which language, each kind declares
  (``FenceKind.notebook_cell``);
* every other fence (C, C++, Rust, CUDA, diagrams: a Python kernel cannot run them) as a
  Markdown cell: the code in a fenced block, then its outputs (text in fenced blocks,
  images as cell attachments);
* when a Python fence uses ``xp`` or ``to_numpy`` (names the build injects), a first code
  cell binds them to NumPy so the notebook runs in a plain Jupyter.

The bytes depend only on the post and its results (no dates, stable cell ids, keys sorted
as nbformat writes them), so a rebuild leaves the file untouched. The file is written
atomically (a temporary file, then a rename). Building a notebook costs ~10 ms a post, so
the bytes are kept in ``<FENCES_CACHE_PATH>/notebooks/``, named by a digest of everything
they are made of (the post's text and title, where its links lead, each fence's cache key,
status and outputs): a warm build copies them. A kept notebook is used only when its
checksum holds (``execblog.kernel.store.read_derived``: a damaged or edited one is a warning
naming it, and the notebook is built again and kept); ``FENCES_MODE = "rerun"`` reads none.

Only published posts get one: a post whose ``status`` is not ``published`` (a draft, a
hidden post) gets no notebook in the output unless ``NOTEBOOKS_FOR_DRAFTS = True``, and a
post with no page of its own (an empty ``save_as``, as ``DRAFT_SAVE_AS = ""`` leaves drafts)
never does.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from execblog.engine import hookimpl, profiling
from execblog.engine.manager import make_manager
from execblog.engine.model import CACHED, EXPECTED_ERROR, RAN, FenceKind
from execblog.kernel.diagnostics import emit, shown_path
from execblog.kernel.store import keep_derived, place, read_derived, trusts_derived

# The cell-numbered tracebacks (.tracebacks) are a plugin of their own, as the stored-output
# kinds are (execblog.kinds.stored): entry points beside this one.
__all__ = ["build_notebook", "dumps", "fences_post_rendered", "notebook_path", "wants_page"]
PUBLISHED = "published"
_CONVERT = ("build_notebook", "dumps", "wants_notebook")  # from .convert, imported when used:
# nbformat (and jsonschema) cost the fork server and every build's start 0.07 s otherwise


def __getattr__(name: str) -> Any:
    if name in _CONVERT:
        from . import convert

        return getattr(convert, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def wants_page(post: Any, settings: dict[str, Any]) -> bool:
    """Whether ``post`` gets a notebook in the output: a published one (``status``), or any
    with ``NOTEBOOKS_FOR_DRAFTS = True``; never one without a page (see notebook_path)."""
    status = str(getattr(post, "status", PUBLISHED) or PUBLISHED).lower()
    return status == PUBLISHED or settings.get("NOTEBOOKS_FOR_DRAFTS") is True


def notebook_path(post: Any) -> str | None:
    """The notebook's path relative to the site (``posts/x/x.ipynb``), or None when the post
    has no page of its own (an empty ``save_as``) or no slug."""
    save_as = str(getattr(post, "save_as", "") or "")
    slug = str(getattr(post, "slug", "") or "")
    if not save_as or not slug:
        return None
    folder = posixpath.dirname(save_as.replace("\\", "/"))
    return posixpath.join(folder, f"{slug}.ipynb") if folder else f"{slug}.ipynb"


def _linker(post: Any, settings: dict[str, Any], rel: str) -> Callable[[str], str]:
    """Resolve a ``{filename}``-style target as Pelican does for the page, for a reader in
    the notebook's folder (relative to it with RELATIVE_URLS, else under SITEURL)."""
    if settings.get("RELATIVE_URLS"):
        from pelican.utils import get_relative_path

        siteurl = get_relative_path(rel)
    else:
        siteurl = str(settings.get("SITEURL") or "")
    update = getattr(post, "_update_content", None)

    def link(target: str) -> str:
        if update is None:
            return target
        quiet = logging.getLogger("pelican.contents")
        previous, quiet.disabled = quiet.disabled, True  # the page already warned
        try:
            html = update(f'<a href="{target}">', siteurl)
        except Exception:  # Pelican's internals: a link left as written is no lost notebook
            return target
        finally:
            quiet.disabled = previous
        found = re.match(r'<a href="([^"]*)">$', html)
        return found[1] if found else target

    return link


def site_kinds(settings: dict[str, Any]) -> dict[str, FenceKind]:
    """The site's fence kinds by name, from the plugin manager the engine built (one per
    ``FENCES_PLUGINS`` list and process)."""
    pm = make_manager(settings.get("FENCES_PLUGINS") or ())
    return {kind.name: kind for kinds in pm.hook.fences_kinds() for kind in kinds}


@hookimpl
@profiling.timed("notebooks")
def fences_post_rendered(post: Any, fences: list[Any], results: list[Any],
                         settings: dict[str, Any]) -> None:
    from .convert import build_notebook, dumps, wants_notebook

    kinds = site_kinds(settings)
    if not wants_notebook(fences, kinds) or not wants_page(post, settings):
        return
    rel = notebook_path(post)
    output = settings.get("OUTPUT_PATH")
    source_path = getattr(post, "source_path", None)
    if rel is None or not output or not source_path:
        return
    where = shown_path(source_path)
    from execblog.sources.notebook import converted_markdown  # (it imports this package)

    try:
        source = converted_markdown(source_path) or Path(source_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        emit(where, None, "warning", f"no notebook: cannot read the post ({exc})")
        return
    title = str((getattr(post, "metadata", None) or {}).get("title")
                or getattr(post, "title", "") or "")
    link = _linker(post, settings, rel)
    from execblog.markdown.xrefs.markdown import (
        MarkdownReferences,  # [@key], @fig-x as the page has
    )

    refs = MarkdownReferences(post, settings)
    kept = _kept_path(settings, _digest(source, title, link, fences, results,
                                        refs.key_for(source)))
    data = read_derived(kept) if kept is not None and trusts_derived(settings) else None
    if data is None:
        try:
            data = dumps(build_notebook(source, fences, results, kinds, title=title, link=link,
                                         refs=refs, appendix=refs.appendix))
        except Exception as exc:  # a bug here must not cost the page
            emit(where, None, "warning", f"no notebook: {type(exc).__name__}: {exc}")
            return
        if kept is not None:
            keep_derived(kept, data)  # False (not kept): only a later build's time is lost
    target = Path(output, *rel.split("/"))
    try:
        place(target, data)
    except OSError as exc:
        emit(where, None, "warning", f"cannot write the notebook {rel} ({exc})")
        return
    post.notebook_url = rel


# Bump when build_notebook's output changes for the same inputs. 2: kept files carry a
# checksum (execblog.kernel.store.seal): the names change, so older, unchecked ones are never read.
NOTEBOOK_FORMAT = "2"
_LINK_TARGET = re.compile(r"\{(?:filename|static|attach|index|tag|category|author)\}[^)\s\"'>]*")


def _digest(source: str, title: str, link: Callable[[str], str], fences: list[Any],
            results: list[Any], resolved: str = "") -> str:
    """Everything a post's notebook is made of, hashed (``resolved``: its references'
    texts, see ``execblog.markdown.xrefs.markdown``)."""
    h = hashlib.sha256()
    for part in (NOTEBOOK_FORMAT, title, source, resolved):
        h.update(part.encode("utf-8", "replace") + b"\0")
    for target in sorted(set(_LINK_TARGET.findall(source))):
        h.update(f"{target}->{link(target)}".encode("utf-8", "replace") + b"\0")
    for fence, result in zip(fences, results, strict=False):
        # a result from the cache makes the same notebook as when it ran
        status = "ok" if result.status in (RAN, CACHED, EXPECTED_ERROR) else result.status
        shown = repr(sorted(fence.options.items(), key=repr))  # echo, fold, output...
        h.update(f"{fence.key}|{fence.kind}|{shown}|{status}|{len(result.outputs)}"
                 .encode("utf-8", "replace") + b"\0")
        for output in result.outputs:
            data = output.data if isinstance(output.data, bytes) else \
                str(output.data).encode("utf-8", "replace")
            h.update(output.mime.encode() + repr(sorted(output.meta.items())).encode()
                     + hashlib.sha256(data).digest())
    return h.hexdigest()


def _kept_path(settings: dict[str, Any], digest: str) -> Path | None:
    cache = settings.get("FENCES_CACHE_PATH")
    return Path(cache, "notebooks", digest[:2], f"{digest}.ipynb") if cache else None
