"""markdown-exec's openers (```` ```python exec="1" source="above" ````) as engine fences.

A page written for MkDocs with markdown-exec builds unchanged: its options are read with
markdown-exec's meaning and turned into this engine's options (:func:`read_opener`).
What prints is Markdown unless ``html`` is true; the source is shown only where
``source`` asks; ``pycon`` and ``console`` fences run their ``>>> `` and ``$ `` lines.
Options markdown-exec has and this engine has not are notes (warnings) saying so.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

HIDE = "markdown-exec: hide"  # a source line holding it is run, never shown
# markdown-exec's languages -> the kind that runs them here.
LANGUAGES = {"python": "python", "py": "python", "python3": "python", "pycon": "python",
             "bash": "bash", "sh": "bash", "console": "bash"}
# Languages whose fences hold a session transcript: the prompt each run line starts with.
PROMPTS = {"pycon": (">>> ", "... "), "console": ("$ ",)}
OTHER_LANGUAGES = {
    "md": "write the Markdown itself in the post",
    "markdown": "write the Markdown itself in the post",
    "tree": "show the tree as a ```text block",
    "pyodide": "use ```python exec=\"1\" (it runs at build time)",
}
_FALSE = {"0", "no", "off", "false"}
_IGNORED = {
    "width": "set COLUMNS in the code (os.environ['COLUMNS'] = '80')",
    "workdir": "open files by paths relative to the build's working directory",
}


@dataclass
class Opener:
    """A markdown-exec opener read: the language written, whether it runs, the engine
    options it stands for ({name: (text, line)}) and notes on what was ignored."""

    language: str
    runs: bool
    options: dict[str, tuple[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        """The engine kind that runs it (None: markdown-exec runs it, this engine cannot)."""
        return LANGUAGES.get(self.language)


def words(info: str) -> list[str]:
    """An opener's words, quotes honoured; split at whitespace where the quoting is bad."""
    try:
        return shlex.split(info, posix=True)
    except ValueError:
        return info.split()


def is_opener(words: list[str]) -> bool:
    """Whether split opener words are markdown-exec's: a language, then ``exec=...``."""
    return len(words) > 1 and any(w.startswith("exec=") for w in words[1:])


def truthy(text: str) -> bool:
    """markdown-exec's booleans: anything but 0, no, off and false (any case)."""
    return text.strip().lower() not in _FALSE


def read_opener(words: list[str], line: int, native: Iterable[str], index: int) -> Opener:
    """markdown-exec's opener words (``python``, ``exec=1``, ``source=above``...) as engine
    options. ``native`` names the options the kind takes (passed as they are: ``hl_lines``,
    ``caption``...); ``index`` (the fence's position in the post) numbers the default id
    prefix of generated headings, ``exec-N--`` as markdown-exec writes it."""
    language = words[0]
    given: dict[str, str] = {}
    for word in words[1:]:
        key, _, value = word.partition("=")
        given[key] = value
    opener = Opener(language, truthy(given.pop("exec", "1")))
    options = opener.options
    html = given.pop("html", None)
    options["output"] = ("html" if html is not None and truthy(html) else "asis", line)
    source = given.pop("source", "")
    if source:
        options["echo"] = ("true", line)
        options["source"] = (source, line)
    else:
        options["echo"] = ("false", line)
    if language in PROMPTS:
        options["syntax"] = (language, line)
    # Without a session each fence has globals of its own, as in markdown-exec.
    options["session"] = (given.pop("session", "") or f"markdown-exec-{index + 1}", line)
    anchor = given.pop("id", "")
    prefix = given.pop("idprefix", None)
    if prefix is None:
        prefix = f"{_slug(anchor)}-" if anchor else f"exec-{index + 1}--"
    options["idprefix"] = (prefix, line)
    for name in ("result", "title", "tabs"):
        if name in given:
            options[name] = (given.pop(name), line)
    code = given.pop("returncode", None)
    if code is not None and code.strip() not in ("", "0"):
        options["error"] = ("true", line)
    toc = given.pop("updatetoc", None)
    if toc is not None and truthy(toc):
        opener.notes.append('updatetoc: headings a fence prints are never in the table of '
                            'contents here; write updatetoc="no" or leave it out')
    for name, hint in _IGNORED.items():
        if name in given:
            opener.notes.append(f"markdown-exec option {name}={given.pop(name)!r} is not "
                                f"supported and was ignored: {hint}")
    native = set(native)
    for name, value in given.items():
        if name in native:
            options[name] = (value, line)
        else:
            opener.notes.append(f"option {name}={value!r} is not supported and was ignored")
    return opener


def _slug(text: str) -> str:
    return re.sub(r"[^\w:.-]+", "-", text.strip()).strip("-")[:60]


SNIPPET = re.compile(r'^-{1,3}8<-{1,3}\s+"(?P<file>[^"]+)"\s*$')


def include_snippets(body: list[str], places: list[Path]) -> tuple[list[str], list[str]]:
    """pymdownx.snippets lines (``--8<-- "usage/source.py"``), which markdown-exec pages
    use for their code: each replaced by the file's lines, looked for in ``places``. The
    body, and the snippets found nowhere."""
    out: list[str] = []
    missing: list[str] = []
    for line in body:
        match = SNIPPET.match(line)
        if match is None:
            out.append(line)
            continue
        found = next((p / match["file"] for p in places if (p / match["file"]).is_file()), None)
        if found is None:
            missing.append(match["file"])
            out.append(line)
        else:
            out += found.read_text(encoding="utf-8").rstrip("\n").split("\n")
    return out, missing


# Put before a markdown-exec shell fence's first line (its line numbers stay): markdown-exec
# runs the script with plain bash, where an unset variable is empty (here set -u is on).
BASH_PREAMBLE = "set +u; "


def as_markdown_exec_runs(language: str, code: str) -> str:
    """A markdown-exec fence's code as markdown-exec would run it (shell: unset is empty)."""
    return BASH_PREAMBLE + code if language == "bash" else code


def runnable(syntax: str, code: str) -> str:
    """What runs of a ``pycon``/``console`` transcript: its prompt lines without their
    prompt; every other line blank, so line numbers still match the post."""
    prompts = PROMPTS.get(syntax)
    if not prompts:
        return code
    lines = []
    for line in code.split("\n"):
        prompt = next((p for p in prompts if line.startswith(p)), None)
        lines.append(line[len(prompt):] if prompt else "")
    return "\n".join(lines)


def shown(syntax: str, code: str) -> str:
    """The source as markdown-exec shows it: no ``markdown-exec: hide`` line, and of a
    transcript only its prompt lines."""
    prompts = PROMPTS.get(syntax)
    lines = [line for line in code.split("\n") if HIDE not in line
             and (not prompts or line.startswith(prompts))]
    return "\n".join(lines).strip("\n")


# A language's interactive prompts (first line, continuation) and how the session is
# highlighted: source="console" shows code of these languages as a session.
SESSIONS = {"python": ("pycon", ">>> ", "... "), "bash": ("console", "$ ", "> ")}


def transcript(language: str, code: str) -> tuple[str, str]:
    """``source="console"``: the code as typed at the language's prompt (a transcript is
    shown as written) and the language to highlight it as."""
    if language in PROMPTS or language not in SESSIONS:
        return language, shown(language, code)
    syntax, first, more = SESSIONS[language]
    lines = []
    for line in shown("", code).split("\n"):
        follows = lines and (line[:1].isspace() or not line or line[:1] in ")]}")
        lines.append((more if follows else first) + line)
    return syntax, "\n".join(lines)


def tab_titles(tabs: str) -> tuple[str, str]:
    """``tabs="Source code|Output"``: the titles of the source's pane and the result's
    (``\\|`` is a ``|`` in a title); markdown-exec's defaults unless there are two."""
    titles = [t.replace("\\|", "|").strip() for t in re.split(r"(?<!\\)\|", tabs)]
    return (titles[0], titles[1]) if len(titles) == 2 and all(titles) else ("Source", "Result")


def tab_start(label: str, first: bool) -> str:
    """The HTML that opens a labelled pane (and, for the first, the pair of panes)."""
    start = '<div class="fence-tabbed">' if first else "</section>"
    return (f'{start}<section class="fence-tab"><p class="fence-tab-label">'
            f"{escape(label)}</p>")


TABS_END = "</section></div>"

