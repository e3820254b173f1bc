"""Capture stdout and stderr at the file-descriptor level (C code and subprocesses too).

A session's fds 1 and 2 point at two files for the session's whole life, in a folder the
host made and knows: nothing in a session holds the build's own stdout (a ``cat`` on the
build's output returns when the build does), and when a fence times out or crashes the
host still reads what it printed before.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from execblog.engine.model import STREAM, Output

MAX_STREAM_CHARS = 50_000
NAMES = ("stdout", "stderr")


class StreamCapture:
    """Owns fds 1 and 2 of a session; each fence starts with empty files, drained in order."""

    def __init__(self, folder: str | os.PathLike[str], limit: int = MAX_STREAM_CHARS):
        self.limit = limit
        self.files = [open(Path(folder, name), "w+b") for name in NAMES]  # noqa: SIM115
        self.read_upto = [0, 0]
        self.kept = [0, 0]

    def attach(self) -> None:
        """Point fds 1 and 2 at the capture files for good (stdin reads nothing)."""
        _flush()
        for fd, fh in zip((1, 2), self.files, strict=True):
            os.dup2(fh.fileno(), fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)

    def __enter__(self) -> StreamCapture:
        _flush()
        for fh in self.files:
            os.ftruncate(fh.fileno(), 0)
            os.lseek(fh.fileno(), 0, os.SEEK_SET)  # the offset fds 1 and 2 share
        self.read_upto = [0, 0]
        self.kept = [0, 0]
        return self

    def __exit__(self, *exc: object) -> None:
        _flush()

    def drain(self) -> list[Output]:
        """Outputs for what was written since the last drain, within the size limit."""
        _flush()
        outputs = []
        for i, fh in enumerate(self.files):
            size = os.fstat(fh.fileno()).st_size
            start = self.read_upto[i]
            if size <= start:
                continue
            self.read_upto[i] = size
            output = _stream_output(fh.fileno(), NAMES[i], start, size, self.limit - self.kept[i])
            self.kept[i] += len(output.data)
            if output.data or "truncated" in output.meta:
                outputs.append(output)
        return outputs


def read_left_behind(folder: str | os.PathLike[str],
                     limit: int = MAX_STREAM_CHARS) -> list[Output]:
    """What a session printed during its current fence, read by the host after it died."""
    outputs = []
    for name in NAMES:
        try:
            fd = os.open(Path(folder, name), os.O_RDONLY)
        except OSError:
            continue
        try:
            size = os.fstat(fd).st_size
            output = _stream_output(fd, name, 0, size, limit)
        finally:
            os.close(fd)
        if output.data:
            outputs.append(output)
    return outputs


def _stream_output(fd: int, name: str, start: int, size: int, room: int) -> Output:
    room = max(room, 0)
    data = os.pread(fd, min(size - start, room * 4), start) if room else b""
    text = data.decode("utf-8", errors="replace")[:room]
    meta: dict[str, object] = {"name": name}
    if len(text) >= room:
        meta["truncated"] = size
    return Output(STREAM, text, meta)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
