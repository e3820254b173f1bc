"""The ``execblog`` command: ``execblog init DIR`` writes a new blog that works as it is.

The blog's files are templates in ``starter/`` (package data). A name ending in ``.tmpl`` has
its ``@@name`` placeholders filled in (Python values as literals) and loses the suffix;
``gitignore`` and ``github/`` become ``.gitignore`` and ``.github/``. Nothing is ever
overwritten: a folder that holds anything but ``.git`` is refused before a file is written.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import shlex
import string
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

STARTER = Path(__file__).resolve().parent / "starter"
TEMPLATE_SUFFIX = ".tmpl"
HIDDEN_NAMES = {"gitignore": ".gitignore", "github": ".github"}  # dot-names in the blog
KEPT_IN_TARGET = {".git"}  # what a folder may already hold: `git init` before `init`


class InitError(Exception):
    """A reason not to write the blog, shown as one line."""


class StarterTemplate(string.Template):
    """``@@name`` placeholders: ``$`` is TeX's and GitHub Actions' own in these files."""

    delimiter = "@@"


def default_title(folder: Path) -> str:
    """``my-blog`` -> ``My blog``."""
    words = folder.name.replace("-", " ").replace("_", " ").strip() or "my blog"
    return words[:1].upper() + words[1:]


def default_author() -> str:
    """git's user.name, else the login name."""
    try:
        name = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "Me"


def requirement() -> str:
    """How pip installs the Execblog that runs now, for the blog's requirements.txt (and so
    for its GitHub workflow)."""
    try:
        dist = metadata.distribution("execblog")
    except metadata.PackageNotFoundError:
        return "execblog"
    return requirement_from(json.loads(dist.read_text("direct_url.json") or "{}"),
                            dist.version)


def requirement_from(origin: dict, version: str) -> str:
    """The requirement for an install whose PEP 610 ``direct_url.json`` is ``origin``: the Git
    or archive URL it came from; for a local checkout, its ``origin`` remote (on GitHub's
    runners a local path means nothing); else the release, ``execblog>=VERSION``."""
    url, vcs = origin.get("url", ""), origin.get("vcs_info")
    if vcs and url:
        return f"execblog @ {vcs['vcs']}+{url}@{vcs.get('commit_id', '')}".rstrip("@")
    if url.startswith("file:"):
        remote = checkout_remote(Path(url2pathname(urlsplit(url).path)))
        return f"execblog @ git+{remote}" if remote else f"execblog>={version}"
    return f"execblog @ {url}" if url else f"execblog>={version}"


def checkout_remote(folder: Path) -> str | None:
    """The https or ssh URL of the ``origin`` remote of the Git checkout at ``folder``
    (``git@host:owner/name`` as ``https://host/owner/name``), or None."""
    if not (folder / ".git").exists():
        return None
    try:
        remote = subprocess.run(["git", "-C", str(folder), "remote", "get-url", "origin"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    scp_like = re.fullmatch(r"[\w.-]+@([\w.-]+):(.+)", remote)
    if scp_like:
        return f"https://{scp_like[1]}/{scp_like[2]}"
    return remote if urlsplit(remote).scheme in ("https", "http", "ssh") else None


def one_line(what: str, value: str) -> str:
    value = value.strip()
    if not value or "\n" in value or "\r" in value:
        raise InitError(f"{what} must be one non-empty line, not {value!r}")
    return value


def site_url(value: str | None) -> str:
    """An absolute http(s) URL without its trailing slash, or "" when none is given."""
    if not value:
        return ""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InitError(f"--url must be an absolute http(s) address such as "
                        f"https://you.github.io/blog, not {value!r}")
    return value.strip().rstrip("/")


def starter_files() -> Iterator[tuple[Path, str]]:
    """(path in the blog, template text) for every starter file."""
    for path in sorted(STARTER.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        parts = list(path.relative_to(STARTER).parts)
        parts[0] = HIDDEN_NAMES.get(parts[0], parts[0])
        yield Path(*parts), path.read_text(encoding="utf-8")


def render(rel: Path, text: str, values: dict[str, str]) -> tuple[Path, str]:
    """A starter file as the blog gets it."""
    if rel.name.endswith(TEMPLATE_SUFFIX):
        return rel.with_name(rel.name[:-len(TEMPLATE_SUFFIX)]), \
            StarterTemplate(text).substitute(values)
    return rel, text


def check_empty(folder: Path) -> None:
    """Raise InitError when ``folder`` is a file, or a folder holding anything but .git."""
    if folder.exists() and not folder.is_dir():
        raise InitError(f"{folder} is a file, not a folder")
    held = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    held = [name for name in held if name not in KEPT_IN_TARGET]
    if held:
        shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
        raise InitError(f"{folder} is not empty (it holds {shown}); nothing was written: "
                        "choose a new or empty folder")


def init(folder: Path, title: str | None = None, author: str | None = None,
         url: str | None = None) -> list[Path]:
    """Write a new blog into ``folder`` (new, or empty but for .git); the paths written."""
    folder = folder.expanduser().resolve()
    check_empty(folder)
    title = one_line("--title", title if title is not None else default_title(folder))
    author = one_line("--author", author if author is not None else default_author())
    values = {
        "sitename": json.dumps(title, ensure_ascii=False),  # a Python string literal
        "sitename_text": title,
        "author": json.dumps(author, ensure_ascii=False),
        "siteurl": json.dumps(site_url(url)),
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
        "requirement": requirement(),
    }
    written = []
    for rel, text in starter_files():
        rel, text = render(rel, text, values)
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as fh:  # never overwrite, even in a race
            fh.write(text)
        written.append(rel)
    return written


def next_steps(folder: Path, written: list[Path], url: str | None,
               requires: str = "execblog") -> str:
    """What was written, and the next two commands; ``requires``: requirements.txt's line."""
    shown = shlex.quote(str(folder))
    lines = [f"Created a blog in {folder}: " + ", ".join(sorted(map(str, written))) + ".",
             "", "Next:", f"  cd {shown}",
             "  invoke livereload   # build, serve at http://127.0.0.1:8000, rebuild on save",
             "",
             "On GitHub, .github/workflows/publish.yml publishes every push to GitHub Pages "
             "(once: Settings > Pages > Source: GitHub Actions)."]
    if "@" not in requires:
        lines.append(f"The workflow installs {requires} from PyPI (requirements.txt): if your "
                     "Execblog comes from elsewhere, write its Git URL there "
                     "(execblog @ git+https://...).")
    if not url:
        lines.append("Elsewhere, set SITEURL in publishconf.py, then `invoke publish`.")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="execblog", description="Execblog: Pelican blogs whose posts run their code.")
    try:
        version = metadata.version("execblog")
    except metadata.PackageNotFoundError:
        version = "unknown"
    main_parser.add_argument("--version", action="version", version=f"execblog {version}")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    new = commands.add_parser(
        "init", help="write a new blog into DIR (new or empty)",
        description="Write a new blog into DIR (a new or empty folder): settings, tasks, a "
                    "starter post, and a GitHub workflow that publishes it to GitHub Pages.")
    new.add_argument("dir", metavar="DIR", type=Path, help="the blog's folder")
    new.add_argument("--title", help="the site's name (default: from DIR's name)")
    new.add_argument("--author", help="the author's name (default: git's user.name)")
    new.add_argument("--url", help="the address readers will use, e.g. "
                                   "https://you.github.io/blog (SITEURL in publishconf.py)")
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    """The console script ``execblog``."""
    args = parser().parse_args(argv)
    try:
        written = init(args.dir, args.title, args.author, args.url)
    except InitError as exc:
        print(f"execblog init: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"execblog init: error: cannot write the blog: {exc}", file=sys.stderr)
        return 1
    print(next_steps(args.dir, written, args.url, requirement()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
