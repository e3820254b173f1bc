"""What the blog already has wins over what Execblog would add: its robots.txt, sitemap, 404
page and search.

A blog "has" a file when something of its own writes that output path: a static file (with
``STATIC_PATHS`` / ``EXTRA_PATH_METADATA``), a post or page whose ``save_as`` is that path, a
``TEMPLATE_PAGES`` entry, or another plugin (named in ``PLUGINS``, or a file it wrote during
this build). Execblog then writes nothing there and says so in one line of the build log.

Direct templates Execblog's settings add ("404", "search") are left out of this build when
the blog has its own page at their path, or when the theme has no such template (a foreign
theme: Pelican would otherwise stop with "unable to load 404.html").
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pelican.generators import PelicanTemplateNotFound

from execblog import THEME

from .unlisted import UNLISTED_LISTS

# The generators' lists of content written to its own save_as (any status).
CONTENT_LISTS = ("articles", "translations", "pages", *UNLISTED_LISTS)
THEME_ROOT = Path(THEME).resolve()
MTIME_SLACK_NS = 20_000_000  # file timestamps come from a coarse clock (a few ms behind)


def say(line: str) -> None:
    """One line in the build log, shown at Pelican's default verbosity (like its "Done:")."""
    print(line, flush=True)


def _norm(path: str) -> str:
    return posixpath.normpath(str(path).replace("\\", "/")).lstrip("/")


def blog_outputs(generators: Iterable[Any], settings: dict[str, Any]) -> dict[str, str]:
    """Output path ("/"-separated, relative) -> the blog's source that writes it: static
    files, posts and pages of any status, and TEMPLATE_PAGES."""
    found: dict[str, str] = {}
    for generator in generators:
        objects = list(getattr(generator, "staticfiles", None) or [])
        for name in CONTENT_LISTS:
            objects += list(getattr(generator, name, None) or [])
        for obj in objects:
            save_as = getattr(obj, "save_as", None)
            if save_as:
                source = getattr(obj, "relative_source_path", None) or obj.source_path
                found.setdefault(_norm(save_as), str(source).replace("\\", "/"))
    for source, dest in (settings.get("TEMPLATE_PAGES") or {}).items():
        if dest:
            found.setdefault(_norm(dest), f"TEMPLATE_PAGES[{source!r}]")
    return found


def plugin_named(settings: dict[str, Any], word: str) -> str | None:
    """The first of the blog's PLUGINS (not Execblog's) with word ("sitemap", "search") as a
    part of its module name ("pelican.plugins.sitemap", "tipue_search"; not "research"),
    else None."""
    part = re.compile(rf"(?:^|[._-]){re.escape(word)}(?:$|[._-])")
    for plugin in settings.get("PLUGINS") or ():
        name = str(getattr(plugin, "__name__", plugin))
        if name.split(".")[0] != "execblog" and part.search(name.lower()):
            return name
    return None


def written_since(path: Path, start_ns: int) -> bool:
    """Whether path was written during this build (at or after start_ns)."""
    try:
        return path.stat().st_mtime_ns >= start_ns - MTIME_SLACK_NS
    except OSError:
        return False


def direct_save_as(settings: dict[str, Any], name: str) -> str:
    """Where Pelican writes the direct template name (as in generate_direct_templates)."""
    return _norm(settings.get(f"{name.upper()}_SAVE_AS", f"{name}.html") or "")


def theme_template(generators: Iterable[Any], name: str) -> str | None:
    """The file the theme renders for the template name, or None when it has none."""
    for generator in generators:
        if hasattr(generator, "get_template") and hasattr(generator, "articles"):
            try:
                return generator.get_template(name).filename
            except PelicanTemplateNotFound:
                return None
    return None


def is_ours(template_file: str | None) -> bool:
    """Whether a template file is Execblog's theme's own."""
    return bool(template_file) and Path(template_file).resolve().is_relative_to(THEME_ROOT)


_restore: dict[int, tuple[dict[str, Any], list[str]]] = {}


def drop_direct_template(generators: list[Any], name: str) -> None:
    """Leave the direct template name out of this build: a new DIRECT_TEMPLATES list in the
    settings and the templates' context (the blog's own list is put back at the end)."""
    for generator in generators:
        settings, context = generator.settings, generator.context
        current = list(settings.get("DIRECT_TEMPLATES") or [])
        if name not in current:
            continue
        _restore.setdefault(id(settings), (settings, settings["DIRECT_TEMPLATES"]))
        settings["DIRECT_TEMPLATES"] = [t for t in current if t != name]
        context["DIRECT_TEMPLATES"] = settings["DIRECT_TEMPLATES"]


def restore_direct_templates(_pelican: Any = None) -> None:
    """Put the blog's DIRECT_TEMPLATES back (``pelican --autoreload`` reuses its settings)."""
    for settings, original in _restore.values():
        settings["DIRECT_TEMPLATES"] = original
    _restore.clear()


def keep_or_drop_direct_template(generators: list[Any], name: str, what: str,
                                 plugin: str, then: str = "") -> str | None:
    """Drop the direct template name when the blog has its own page at its path, or the
    theme has no such template; log one line saying which (then appended). Returns that
    line, or None when the template is rendered (or was never asked for)."""
    if not generators:
        return None
    settings = generators[0].settings
    if name not in (settings.get("DIRECT_TEMPLATES") or ()):
        return None
    save_as = direct_save_as(settings, name)
    source = blog_outputs(generators, settings).get(save_as)
    if source:
        reason = f"the blog's own {what} ({source}) is kept at {save_as}; Execblog's is not written"
    elif theme_template(generators, name) is None:
        reason = f"the theme has no {what} ({name}.html template); none is written"
    else:
        return None
    drop_direct_template(generators, name)
    say(f"{plugin}: {reason}{then}")
    return reason + then
