"""The live preview's HTTP server in this process (no Pelican): whom it answers, what it
serves, how long it waits; and how /__preview/errors shows the paths of errors."""

from __future__ import annotations

import http.client
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from execblog.sitetasks import preview


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, int]]:
    """The output folder and the port of a server on 127.0.0.1, with short timeouts."""
    monkeypatch.setattr(preview, "IDLE_TIMEOUT_S", 0.5)
    monkeypatch.setattr(preview, "KEEPALIVE_S", 0.2)
    output = tmp_path / "out"
    output.mkdir()
    (output / "index.html").write_text("<html><body>home</body></html>")
    hub = preview.Hub()
    server = preview.start_server(output, hub, "127.0.0.1", 0)
    try:
        yield output, server.server_port
    finally:
        hub.close()
        server.shutdown()
        server.server_close()


def request(port: int, path: str, host: str | None = None,
            method: str = "GET") -> tuple[int, str, bytes]:
    """(status, Content-Type, body of at most 4 KiB) of one request with this ``Host``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True)
        conn.putheader("Host", f"127.0.0.1:{port}" if host is None else host)
        conn.endheaders()
        response = conn.getresponse()
        body = b"" if method == "HEAD" else response.read(4096)
        return response.status, response.getheader("Content-Type") or "", body
    finally:
        conn.close()


def test_a_foreign_host_is_refused_on_every_path(served: tuple[Path, int]) -> None:
    _output, port = served
    for path in ("/", "/index.html", "/missing", "/__preview/errors", "/__preview/events"):
        status, kind, body = request(port, path, "evil.example")
        assert status == 403 and kind.startswith("text/plain"), path
        assert 0 < len(body) < 200 and b"<" not in body
    assert request(port, "/", "evil.example", "HEAD")[0] == 403
    for host in (f"evil.example:{port}", f"localhost:{port + 1}", "127.0.0.1.evil.example",
                 f"localhost:{port}x", "[::1]evil", ""):
        assert request(port, "/__preview/errors", host)[0] == 403, host
    for host in ("localhost", f"localhost:{port}", "LOCALHOST", "127.0.0.1",
                 f"127.0.0.1:{port}", "[::1]", f"[::1]:{port}"):
        assert request(port, "/__preview/errors", host)[0] == 200, host
    assert b"home" in request(port, "/", f"localhost:{port}")[2]


def test_the_bound_address_is_answered_too() -> None:
    assert "192.168.1.5" in preview.allowed_hosts("192.168.1.5")
    assert "[fe80::1]" in preview.allowed_hosts("fe80::1")
    assert preview.allowed_hosts("") == preview.LOCAL_HOSTS
    assert preview.host_and_port("[::1]:8000") == ("[::1]", 8000)
    assert preview.host_and_port("a:b:c") is None


def test_a_symlink_out_of_the_output_folder_is_not_served(
        served: tuple[Path, int], tmp_path: Path) -> None:
    output, port = served
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET")
    (outside / "index.html").write_text("<html><body>SECRET</body></html>")
    (output / "leak.txt").symlink_to(outside / "secret.txt")
    (output / "leak").symlink_to(outside, target_is_directory=True)
    (output / "inner").mkdir()
    (output / "inner" / "index.html").symlink_to(outside / "index.html")
    (output / "kept.html").symlink_to(output / "index.html")  # inside: still served
    for path in ("/leak.txt", "/leak/secret.txt", "/leak/", "/leak", "/leak/index.html",
                 "/inner/", "/inner/index.html"):
        status, _kind, body = request(port, path)
        assert status == 404 and b"SECRET" not in body, path
        assert request(port, path, method="HEAD")[0] == 404, path
    status, _kind, body = request(port, "/kept.html")
    assert status == 200 and b"home" in body


def test_an_idle_connection_is_dropped(served: tuple[Path, int]) -> None:
    _output, port = served
    for sent in (b"", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"):  # nothing, half a request
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(sent)
            assert sock.recv(1024) == b""  # closed by the server, no answer
            assert 0.3 < time.monotonic() - started < 5


def test_the_events_stream_outlives_the_idle_timeout(served: tuple[Path, int]) -> None:
    _output, port = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/__preview/events?page=/index.html")
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/event-stream"
        started, lines = time.monotonic(), []
        while time.monotonic() - started < 2:  # 4 idle timeouts
            lines.append(response.fp.readline().decode())
        assert "event: hello\n" in lines and lines.count(": keepalive\n") >= 3
    finally:
        conn.close()


def test_error_paths_are_relative_to_the_working_or_the_content_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    (repo / "content" / "posts").mkdir(parents=True)
    (elsewhere / "posts").mkdir(parents=True)
    monkeypatch.chdir(repo)

    def shown(text: str, content: Path) -> preview.Located:
        return preview.relative(preview.Located.parse(text), content)

    inside = shown(f"{repo}/content/posts/a.md:3: error: boom", repo / "content")
    assert (inside.path, inside.line) == ("content/posts/a.md", 3)
    assert inside.text == "content/posts/a.md:3: error: boom"
    relpath = os.path.relpath(elsewhere / "posts" / "a.md")  # ../elsewhere/posts/a.md
    for text in (f"{elsewhere}/posts/a.md:7: error: no {elsewhere}/posts/b.md",
                 f"{relpath}:7: error: no {elsewhere}/posts/b.md"):
        outside = shown(text, elsewhere)
        assert outside.path == "posts/a.md"
        assert outside.text == "posts/a.md:7: error: no posts/b.md"
    foreign = shown(f"{tmp_path}/theme/base.html:2: error: bad", elsewhere)
    assert foreign.text == "base.html:2: error: bad" and str(tmp_path) not in foreign.text
    assert shown(f"error: {repo}/x failed", repo).text == "error: x failed"
