"""The long-lived preview behind ``invoke livereload``: build, serve, rebuild on save.

One process keeps Pelican imported, the fence engine's executor and its fork server alive
(``execblog.engine.lifetime``), and rebuilds in-process when content, theme or settings change
(watchfiles, debounced). Every rebuild reads the settings again and makes a new Pelican
object, as a fresh ``pelican`` run would; Pelican's content cache stays off (the fence
engine refuses it: cached reader output skips the fence extension), so every post is read
again, but nothing is imported or started again and unchanged fences come from the cache.
A change to Python code under ``plugins/`` restarts the process (``os.execv``): imported
modules cannot be reloaded safely.

A save of posts or pages alone is built in two steps: first a build that writes only the
pages of the saved files (every post is still read, so the page is the one a full build
writes), then, once nothing else was saved for FULL_AFTER_MS, a full build for the lists,
feeds and pages that show the post. Templates are compiled once (an in-memory Jinja
bytecode cache, checked against the template's source), and after the first build the
output folder is no longer emptied (DELETE_OUTPUT_DIRECTORY), so the server never serves a
half-deleted site; a removed post's page stays until the preview restarts.

The HTTP server serves the output folder and adds a small script to every HTML response
(never to the files). The script listens on Server-Sent Events (``/__preview/events``);
after each rebuild the server compares the digests of every output file with the previous
build's and sends the changed paths: a page reloads only when it, or a file it references,
changed. A rebuild's located errors (``path:LINE: error: ...``: failing fences, posts
Pelican could not read, exceptions) are sent too and shown in an overlay, which clears
when a later rebuild is clean; ``/__preview/errors`` returns the same as JSON, its paths
relative to the working folder (the repository) or to the content folder, never absolute.

The server is for this machine's browser only: it answers a request only when its ``Host``
is ``localhost``, ``127.0.0.1``, ``[::1]`` or the address it was bound to (with its port or
none; else 403, against DNS rebinding), serves no file whose real path is outside the output
folder (a symlink out of it is a 404), and drops a connection that sends nothing for
IDLE_TIMEOUT_S (the events stream only writes, so it is not affected).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import logging
import os
import queue
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from execblog.kernel.contents import content_objects, render_only
from execblog.kernel.site_errors import BUILD_RECORD, cache_root

EVENTS = "/__preview/events"
ERRORS = "/__preview/errors"
STEP_MS = 50  # a save is complete when nothing else changed for this long
DEBOUNCE_MS = 600  # ... or after this long at most
FULL_AFTER_MS = 300  # the full build follows a pages-only build after this long idle
KEEPALIVE_S = 15.0
IDLE_TIMEOUT_S = 20.0  # a connection that sends nothing (or half a request) this long is dropped
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
# One located error line, as fences.diagnostics writes them: path[:LINE]: error: message
LOCATED = re.compile(r"^(?P<path>[^\s:][^:]*?)(?::(?P<line>\d+))?: error: (?P<message>.+)$")

CLIENT = """
(function () {
  var SHOWN = "img[src],script[src],iframe[src],source[src],video[src],audio[src]," +
    "embed[src],object[data],link[rel~=stylesheet][href],link[rel~=icon][href]";
  var me = document.currentScript;
  var page = location.pathname.endsWith("/") ? location.pathname + "index.html"
    : location.pathname;
  function norm(url) {
    var p = new URL(url, location.href).pathname;
    return p.endsWith("/") ? p + "index.html" : p;
  }
  function affected(changed) {
    if (changed.indexOf(page) >= 0) return true;
    var refs = {};  // what the page shows or runs, not what it links to (feeds, posts)
    document.querySelectorAll(SHOWN).forEach(function (el) {
      var url = el.getAttribute("src") || el.getAttribute("href") || el.getAttribute("data");
      try { refs[norm(url)] = 1; } catch (e) {}
    });
    return changed.some(function (p) { return !/\\.html$/.test(p) && refs[p]; });
  }
  function overlay(errors) {
    var box = document.getElementById("__preview-overlay");
    if (!errors.length) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "__preview-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;" +
        "z-index:2147483647;background:#2b0b0b;color:#ffdede;font:13px/1.45 monospace;" +
        "padding:12px 16px;border-top:3px solid #e5484d;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "";
    var head = document.createElement("strong");
    head.textContent = "The last rebuild has " + errors.length + " error(s):";
    var close = document.createElement("button");
    close.textContent = "\\u00d7";
    close.setAttribute("aria-label", "Hide");
    close.style.cssText = "float:right;background:none;border:0;color:inherit;font-size:18px";
    close.onclick = function () { box.remove(); };
    box.append(close, head);
    errors.forEach(function (e) {
      var line = document.createElement("div");
      line.textContent = e.text;
      box.appendChild(line);
    });
  }
  var source = new EventSource("%(events)s?page=" + encodeURIComponent(page) +
    "&digest=" + encodeURIComponent(me.dataset.digest || ""));
  source.addEventListener("hello", function (ev) {
    var msg = JSON.parse(ev.data);
    if (msg.stale) location.reload(); else overlay(msg.errors);
  });
  source.addEventListener("build", function (ev) {
    var msg = JSON.parse(ev.data);
    if (affected(msg.changed)) location.reload(); else overlay(msg.errors);
  });
})();
""".replace("%(events)s", EVENTS)


# --- one rebuild ------------------------------------------------------------------------------


@dataclass
class Located:
    """One error of a rebuild: the file and line it names (when it names one) and the line
    as printed."""

    text: str
    path: str | None = None
    line: int | None = None

    @classmethod
    def parse(cls, text: str) -> Located:
        match = LOCATED.match(text.strip())
        if not match:
            return cls(text.strip())
        line = match["line"]
        return cls(text.strip(), match["path"], int(line) if line else None)


@dataclass
class Outcome:
    """What one rebuild did."""

    number: int
    ok: bool  # Pelican finished (the page may still show failing fences: see errors)
    seconds: float
    errors: list[Located] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # URL paths: /posts/x/index.html
    selective: bool = False  # only the saved files' pages were written

    def message(self) -> dict[str, Any]:
        return {"build": self.number, "ok": self.ok, "seconds": round(self.seconds, 3),
                "errors": [asdict(e) for e in self.errors], "changed": self.changed,
                "selective": self.selective}


class _Tee:
    """A text stream that writes through to ``stream`` and keeps what it was given."""

    def __init__(self, stream: Any):
        self.stream = stream
        self.parts: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.parts.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, ...
        return getattr(self.stream, name)

    def lines(self) -> list[str]:
        with self._lock:
            return "".join(self.parts).splitlines()


@contextlib.contextmanager
def _captured_stderr() -> Iterator[_Tee]:
    tee = _Tee(sys.stderr)
    sys.stderr = tee
    try:
        yield tee
    finally:
        sys.stderr = tee.stream


def digests(folder: Path) -> dict[str, str]:
    """``{/url/path: sha256}`` of every file under ``folder``."""
    found: dict[str, str] = {}
    for base, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(base, name)
            with contextlib.suppress(OSError):
                rel = path.relative_to(folder).as_posix()
                found["/" + rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def changed_paths(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """URL paths added, removed or rewritten with other bytes."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


class _MemoryBytecodeCache:
    """Jinja's compiled templates, kept in memory between builds. Jinja checks each entry
    against the template's source, so an edited template is compiled again."""

    def __init__(self) -> None:
        import jinja2

        class Cache(jinja2.BytecodeCache):
            def __init__(self) -> None:
                self.entries: dict[str, bytes] = {}

            def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
                data = self.entries.get(bucket.key)
                if data is not None:
                    bucket.bytecode_from_string(data)

            def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
                self.entries[bucket.key] = bucket.bytecode_to_string()

        self.cache = Cache()


class Site:
    """Builds one site in this process, again and again, with the same settings file."""

    def __init__(self, conf: Path, content: Path, output: Path,
                 overrides: Mapping[str, Any] | None = None):
        from pelican import signals

        self.conf, self.content, self.output = conf.resolve(), content.resolve(), output.resolve()
        self.overrides = dict(overrides or {})
        self.number = 0
        self.digests: dict[str, str] = digests(self.output) if self.output.is_dir() else {}
        self.settings: dict[str, Any] = {}
        self._templates = _MemoryBytecodeCache().cache
        self._sources: set[str] | None = None  # this build writes only these files' pages
        self.selection: set[str] | None = None  # ... which are these output paths
        self._extensions: set[str] | None = None
        self.delete_output = False
        signals.get_writer.connect(self._writer, weak=False)
        signals.all_generators_finalized.connect(self._select, weak=False)

    def read_settings(self) -> dict[str, Any]:
        from pelican.settings import read_settings

        settings = read_settings(str(self.conf), override={
            **self.overrides, "PATH": str(self.content), "OUTPUT_PATH": str(self.output)})
        settings["JINJA_ENVIRONMENT"] = {**settings.get("JINJA_ENVIRONMENT", {}),
                                         "bytecode_cache": self._templates}
        # Keep serving the last build's files while the next one runs: the first build
        # empties the output folder (when the settings say so), later ones do not. The
        # setting is the same for every build, so the executor's settings do not change.
        self.delete_output = bool(settings.get("DELETE_OUTPUT_DIRECTORY"))
        settings["DELETE_OUTPUT_DIRECTORY"] = False
        return settings

    def is_source(self, path: str) -> bool:
        """Whether ``path`` is a post or page a pages-only build can rewrite by itself."""
        from pelican.readers import Readers

        if self._extensions is None:
            self._extensions = set(Readers(self.settings or self.read_settings()).extensions)
        return (Path(path).resolve().is_relative_to(self.content)
                and Path(path).suffix.lstrip(".") in self._extensions)

    def _writer(self, pelican: Any) -> type:
        from pelican.writers import Writer

        site = self

        class SelectiveWriter(Writer):
            """Pelican's writer; in a pages-only build, only the selected pages."""

            def write_feed(self, *args: Any, **kwargs: Any) -> Any:
                if site.selection is not None:
                    return None  # feeds wait for the full build
                return super().write_feed(*args, **kwargs)

            def write_file(self, name: str, *args: Any, **kwargs: Any) -> Any:
                if site.selection is not None and name not in site.selection:
                    return None
                return super().write_file(name, *args, **kwargs)

        return SelectiveWriter

    def _select(self, generators: Any) -> None:
        """Once every post is read: the output paths of the saved files' pages (None, a full
        build, when a saved file made no page, e.g. a new post)."""

        self.selection = None
        if not self._sources:
            return
        pages = {str(Path(obj.source_path).resolve()): obj.save_as
                 for obj in content_objects(generators) if getattr(obj, "source_path", None)}
        if all(pages.get(source) for source in self._sources):
            self.selection = {pages[source] for source in self._sources}

    def build(self, sources: set[str] | None = None) -> Outcome:
        """Run Pelican once; never raises for a failed build (the outcome says what failed).

        ``sources`` (absolute paths of posts and pages): write only their pages."""
        from pelican.log import LimitFilter


        self.number += 1
        self._sources = {str(Path(s).resolve()) for s in sources} if sources else None
        self.selection = None
        render_only(self._sources)  # fences are rendered into the pages written, only
        started = time.perf_counter()
        # Pelican drops a warning it has logged before in this process: start each build
        # with a clean slate, as a fresh `pelican` run does.
        LimitFilter._raised_messages.clear()
        LimitFilter._group_count.clear()
        errors: list[Located] = []
        summary: list[Located] = []  # a strict build's closing line, when nothing else said
        ok, started_pelican = True, False
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        with _captured_stderr() as tee:
            try:
                self.settings = settings = self.read_settings()
                if self._sources:  # pages only: the full build that follows indexes them
                    settings["SEARCH_INDEX"] = False
                if self.number == 1 and self.delete_output and self.output.is_dir():
                    from pelican.utils import clean_output_dir

                    clean_output_dir(str(self.output), settings.get("OUTPUT_RETENTION", []))
                pelican = _pelican_class(settings)(settings)
                started_pelican = True
                pelican.run()
            except SystemExit as exc:  # the fence engine's strict exits, site_errors'
                ok = exc.code in (0, None)
                if not ok and exc.code != 1 and not isinstance(exc.code, str):
                    raise  # interrupted (128 + signal): the preview stops
                if isinstance(exc.code, str):
                    summary.append(Located(f"error: {exc.code}"))
            except Exception as exc:  # noqa: BLE001 - a broken page must not stop the preview
                ok = False
                errors.append(_exception_error(exc, self.conf.parent))
                traceback.print_exc()
            finally:
                render_only(None)
                selective = self.selection is not None
                self._sources = self.selection = None
                for sig, handler in handlers.items():  # the engine installs its own
                    if handler is not None:
                        signal.signal(sig, handler)
        located = [Located.parse(line) for line in tee.lines() if LOCATED.match(line.strip())]
        site_errors = self._site_errors() if started_pelican else []
        errors = _unique([relative(e, self.content)  # no absolute path of this machine
                          for e in located + site_errors + errors or summary])
        after = digests(self.output) if self.output.is_dir() else {}
        changed = changed_paths(self.digests, after)
        self.digests = after
        return Outcome(self.number, ok, time.perf_counter() - started, errors, changed,
                       selective)

    def _site_errors(self) -> list[Located]:
        """The errors site_errors recorded in build.json (Pelican's own, located)."""
        try:

            record = json.loads((cache_root(self.settings) / BUILD_RECORD).read_text())
        except (ImportError, OSError, ValueError, KeyError):
            return []
        return [Located.parse(text) for text in record.get("errors") or []]


def _pelican_class(settings: Mapping[str, Any]) -> Any:
    cls = settings["PELICAN_CLASS"]
    if isinstance(cls, str):
        module, name = cls.rsplit(".", 1)
        cls = getattr(__import__(module, fromlist=[name]), name)
    return cls


def _exception_error(exc: BaseException, root: Path) -> Located:
    """An exception as a located error: a template's file and line, else the innermost
    frame in the project."""
    path, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    if not path:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if Path(f.filename).resolve().is_relative_to(root)
                  and ".venv" not in Path(f.filename).parts]
        if frames:
            path, line = frames[-1].filename, frames[-1].lineno
    message = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    if path:
        with contextlib.suppress(ValueError):
            path = os.path.relpath(path)
        where = f"{path}:{line}" if line else path
        return Located(f"{where}: error: {message}", path, line)
    return Located(f"error: {message}")


def shown_path(path: str, content: Path) -> str:
    """``path`` without this machine's folders: relative to the working folder (the
    repository) when inside it, else to the content folder, else its file name."""
    here = Path.cwd().resolve()
    full = Path(os.path.abspath(path))
    for candidate in (full, full.resolve()):
        for base in (here, content):
            if candidate.is_relative_to(base):
                return candidate.relative_to(base).as_posix()
    return full.name


def relative(error: Located, content: Path) -> Located:
    """``error`` with its path (and the working and content folders in its message) shown
    relative, as ``shown_path`` does."""
    match = LOCATED.match(error.text)
    path = shown_path(error.path, content) if error.path and match else None
    message = match["message"] if path else error.text
    for folder in sorted({str(Path.cwd().resolve()), str(content)}, key=len):
        message = message.replace(folder + os.sep, "")
    if not path:
        return Located(message)
    where = f"{path}:{error.line}" if error.line else path
    return Located(f"{where}: error: {message}", path, error.line)


def _unique(errors: list[Located]) -> list[Located]:
    seen: dict[str, Located] = {}
    for error in errors:
        seen.setdefault(error.text, error)
    return list(seen.values())


# --- serving ----------------------------------------------------------------------------------


class Hub:
    """The last rebuild's outcome and the browsers listening for the next one."""

    def __init__(self) -> None:
        self.building = False
        self.last: Outcome | None = None
        self.digests: dict[str, str] = {}
        self._clients: set[queue.Queue[dict[str, Any] | None]] = set()
        self._lock = threading.Lock()

    def publish(self, outcome: Outcome, digests_now: Mapping[str, str]) -> None:
        with self._lock:
            self.last, self.digests = outcome, dict(digests_now)
            clients = list(self._clients)
        for client in clients:
            client.put(outcome.message())

    def subscribe(self) -> queue.Queue[dict[str, Any] | None]:
        client: queue.Queue[dict[str, Any] | None] = queue.Queue()
        with self._lock:
            self._clients.add(client)
        return client

    def unsubscribe(self, client: queue.Queue[dict[str, Any] | None]) -> None:
        with self._lock:
            self._clients.discard(client)

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            client.put(None)

    def state(self) -> dict[str, Any]:
        """The last rebuild's message, whether another is running now, and how many pages
        listen."""
        with self._lock:
            now = {"building": self.building, "clients": len(self._clients)}
        if self.last is None:
            return {"build": 0, "ok": True, "seconds": 0.0, "errors": [], "changed": [],
                    "selective": False, **now}
        return {**self.last.message(), **now}


def inject(page: bytes, digest: str) -> bytes:
    """``page`` with the preview script before its last ``</body>`` (or at the end)."""
    tag = (f'<script data-preview="1" data-digest="{html.escape(digest)}">{CLIENT}</script>'
           ).encode()
    at = page.lower().rfind(b"</body>")
    return page + tag if at < 0 else page[:at] + tag + page[at:]


def allowed_hosts(bind: str) -> frozenset[str]:
    """The ``Host`` names the server answers to: this machine's, and ``bind``."""
    bound = bind.lower()
    if ":" in bound and not bound.startswith("["):
        bound = f"[{bound}]"  # an IPv6 address, as a Host header writes it
    return LOCAL_HOSTS | ({bound} if bound else set())


def host_and_port(value: str) -> tuple[str, int | None] | None:
    """``(name, port)`` of a ``Host`` header (port None when it has none); None when it is
    not one."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]") + 1
        name, rest = value[:end], value[end:]
    else:
        name, colon, port = value.partition(":")
        rest = colon + port
    if not name or (rest and not (rest[0] == ":" and rest[1:].isascii()
                                  and rest[1:].isdigit())):
        return None
    return name, int(rest[1:]) if rest else None


def make_handler(root: Path, hub: Hub, hosts: frozenset[str] = LOCAL_HOSTS,
                 ) -> type[SimpleHTTPRequestHandler]:
    real_root = Path(os.path.realpath(root))

    class Handler(SimpleHTTPRequestHandler):
        timeout = IDLE_TIMEOUT_S  # per socket operation: an idle client is dropped

        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, directory=str(root), **kwargs)

        def parse_request(self) -> bool:
            """http.server's, and a 403 for a ``Host`` this server does not answer to."""
            if not super().parse_request():
                return False
            values = self.headers.get_all("Host") or []
            found = host_and_port(values[0]) if len(values) == 1 else None
            if found and found[0] in hosts and found[1] in (None, self.server.server_port):
                return True
            body = b"403 Forbidden: the preview answers only to localhost.\n"
            self.send_response(HTTPStatus.FORBIDDEN)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return False

        def _outside(self, url_path: str) -> bool:
            """Whether ``url_path`` names a file (or a folder's index) whose real path, past
            every symlink, is outside the output folder."""
            target = Path(self.translate_path(url_path))
            named = [target]
            if target.is_dir():
                named += [target / "index.html", target / "index.htm"]
            return any((p.exists() or p.is_symlink())
                       and not Path(os.path.realpath(p)).is_relative_to(real_root)
                       for p in named)

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
            if self._outside(urlsplit(self.path).path):
                return self.send_error(HTTPStatus.NOT_FOUND)
            return super().do_HEAD()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlsplit(self.path)
            if url.path == EVENTS:
                return self._events(parse_qs(url.query))
            if url.path == ERRORS:
                return self._send(HTTPStatus.OK, "application/json",
                                  json.dumps(hub.state()).encode())
            if self._outside(url.path):
                if (root / "404.html").is_file():
                    return self._page(HTTPStatus.NOT_FOUND, root / "404.html")
                return self.send_error(HTTPStatus.NOT_FOUND)
            target = Path(self.translate_path(url.path))
            if target.is_dir():
                if not url.path.endswith("/"):
                    return super().do_GET()  # the redirect to the folder
                target = target / "index.html"
            if target.suffix == ".html" and target.is_file():
                return self._page(HTTPStatus.OK, target)
            if not target.exists() and (root / "404.html").is_file():
                return self._page(HTTPStatus.NOT_FOUND, root / "404.html")
            return super().do_GET()

        def _page(self, status: HTTPStatus, path: Path) -> None:
            try:
                data = path.read_bytes()
            except OSError:
                return self.send_error(HTTPStatus.NOT_FOUND)
            digest = hashlib.sha256(data).hexdigest()
            self._send(status, "text/html; charset=utf-8", inject(data, digest))

        def _send(self, status: HTTPStatus, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _events(self, query: dict[str, list[str]]) -> None:
            page = unquote((query.get("page") or [""])[0])
            digest = (query.get("digest") or [""])[0]
            client = hub.subscribe()
            try:
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                state = hub.state()
                current = hub.digests.get(page)
                hello = {**state, "stale": bool(digest and current and current != digest)}
                self._event("hello", hello, retry=500)
                while True:
                    try:
                        message = client.get(timeout=KEEPALIVE_S)
                    except queue.Empty:
                        self.wfile.write(b": keepalive\n\n")
                        self.wfile.flush()
                        continue
                    if message is None:
                        return
                    self._event("build", message)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                return
            finally:
                hub.unsubscribe(client)

        def _event(self, name: str, data: dict[str, Any], retry: int | None = None) -> None:
            head = f"retry: {retry}\n" if retry else ""
            self.wfile.write(f"{head}event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_server(output: Path, hub: Hub, bind: str, port: int) -> Server:
    """Serve ``output`` on ``bind:port`` in a daemon thread."""
    output.mkdir(parents=True, exist_ok=True)
    server = Server((bind, port), make_handler(output, hub, allowed_hosts(bind)))
    threading.Thread(target=server.serve_forever, name="preview-http", daemon=True).start()
    return server


# --- the loop ---------------------------------------------------------------------------------


def needs_restart(path: str, plugins: Path) -> bool:
    """A change that only a new process picks up: Python code of the site's plugins."""
    return path.endswith(".py") and Path(path).resolve().is_relative_to(plugins.resolve())


def watched_paths(site: Site, settings: Mapping[str, Any], root: Path) -> list[Path]:
    """Content, theme, the settings file and the plugins."""
    theme = settings.get("THEME")
    paths = [site.content, *([Path(theme)] if theme else []), site.conf, root / "plugins"]
    return [p for p in paths if p.exists()]


def run(conf: Path, content: Path, output: Path, overrides: Mapping[str, Any] | None,
        root: Path, bind: str = "127.0.0.1", port: int = 8000) -> None:
    """Build, serve on ``bind:port``, rebuild on every change until Ctrl-C (or SIGTERM)."""
    from pelican.log import init as init_logging

    from execblog.engine import lifetime

    os.chdir(root)  # relative settings (the fence cache) are relative to where Pelican runs
    init_logging(level=logging.WARNING)
    signal.signal(signal.SIGTERM, _interrupt)
    lifetime.hold()
    site = Site(conf, content, output, overrides)
    hub = Hub()
    stop = threading.Event()
    changes: queue.Queue[set[str]] = queue.Queue()
    server: Server | None = None
    restart = False
    try:
        settings = site.read_settings()
        # Watch before the first build: a save during it is built next, not lost.
        threading.Thread(target=_watch, name="preview-watch", daemon=True, args=(
            watched_paths(site, settings, root), settings.get("IGNORE_FILES") or [],
            changes, stop)).start()
        server = start_server(site.output, hub, bind, port)
        print(f"preview: serving {site.output} at http://{bind}:{server.server_port}/ "
              "(Ctrl-C to stop)", flush=True)
        _rebuild(site, hub, None)
        restart = _loop(site, hub, changes, root / "plugins")
    except KeyboardInterrupt:
        print("\npreview: stopped", flush=True)
    finally:
        stop.set()
        hub.close()
        if server is not None:
            server.shutdown()
            server.server_close()
        lifetime.release()
    if restart:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def _loop(site: Site, hub: Hub, changes: queue.Queue[set[str]], plugins: Path) -> bool:
    """Rebuild on every batch of changes; True when the process must restart."""
    full_pending = False
    while True:
        try:
            paths = changes.get(timeout=FULL_AFTER_MS / 1000)
        except queue.Empty:  # idle: now the lists and feeds a pages-only build left out
            if full_pending:
                full_pending = False
                _rebuild(site, hub, None)
            continue
        with contextlib.suppress(queue.Empty):
            while True:  # everything saved while the last build ran, at once
                paths |= changes.get_nowait()
        if any(needs_restart(p, plugins) for p in paths):
            print("preview: plugin code changed: restarting", flush=True)
            return True
        ordered = sorted(paths)
        shown = ", ".join(os.path.relpath(p) for p in ordered[:3])
        print(f"preview: changed {shown}{' ...' if len(ordered) > 3 else ''}", flush=True)
        sources = {p for p in paths if Path(p).is_file() and site.is_source(p)}
        pages_only = len(sources) == len(paths)
        outcome = _rebuild(site, hub, sources if pages_only else None)
        full_pending = outcome.selective or (full_pending and not outcome.ok)


def _watch(paths: list[Path], ignore: list[str], changes: queue.Queue[set[str]],
           stop: threading.Event) -> None:
    import watchfiles

    for batch in watchfiles.watch(*paths, watch_filter=_Filter(ignore), step=STEP_MS,
                                  debounce=DEBOUNCE_MS, stop_event=stop, raise_interrupt=False):
        changes.put({path for _change, path in batch})


class _Filter:
    """Pelican's watch filter (its IGNORE_FILES and watchfiles' defaults), less packaging
    metadata."""

    def __init__(self, ignore_file_patterns: list[str]):
        from pelican.utils import FileChangeFilter

        self._inner = FileChangeFilter(ignore_file_patterns=ignore_file_patterns)

    def __call__(self, change: Any, path: str) -> bool:
        return ".egg-info" not in path and self._inner(change, path)


def _rebuild(site: Site, hub: Hub, sources: set[str] | None) -> Outcome:
    hub.building = True
    try:
        outcome = site.build(sources)
    finally:
        hub.building = False
    hub.publish(outcome, site.digests)
    _report(outcome)
    return outcome


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _report(outcome: Outcome) -> None:
    state = "ok" if outcome.ok else "FAILED"
    errors = f", {len(outcome.errors)} error(s)" if outcome.errors else ""
    what = "pages-only build" if outcome.selective else "build"
    print(f"preview: {what} {outcome.number} {state} in {outcome.seconds:.2f} s{errors}, "
          f"{len(outcome.changed)} file(s) changed", flush=True)


def main(argv: list[str] | None = None) -> None:
    """``python -m sitetasks.preview --conf pelicanconf.py --content content ...``"""
    from .pelican_cli import parse_overrides

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf", type=Path, required=True)
    parser.add_argument("--content", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="where Pelican runs and plugins/ is (default: here)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    run(args.conf.resolve(), args.content.resolve(), args.output.resolve(),
        parse_overrides(args.set), args.root.resolve(), args.bind, args.port)


if __name__ == "__main__":
    main()
