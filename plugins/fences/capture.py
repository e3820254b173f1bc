"""Capture stdout and stderr at the file-descriptor level (C code and subprocesses too)."""

from __future__ import annotations

import os
import sys
import tempfile

from .model import STREAM, Output

MAX_STREAM_CHARS = 50_000


class StreamCapture:
    """Points fds 1 and 2 at temporary files while a fence runs; drains them in order."""

    NAMES = ("stdout", "stderr")

    def __init__(self, limit: int = MAX_STREAM_CHARS):
        self.limit = limit
        self.files = [tempfile.TemporaryFile(), tempfile.TemporaryFile()]
        self.saved: list[int] = []
        self.read_upto = [0, 0]
        self.kept = [0, 0]

    def __enter__(self) -> StreamCapture:
        _flush()
        self.saved = [os.dup(1), os.dup(2)]
        for fd, fh in zip((1, 2), self.files, strict=True):
            os.ftruncate(fh.fileno(), 0)
            os.lseek(fh.fileno(), 0, os.SEEK_SET)
            os.dup2(fh.fileno(), fd)
        self.read_upto = [0, 0]
        self.kept = [0, 0]
        return self

    def __exit__(self, *exc: object) -> None:
        _flush()
        for fd, saved in zip((1, 2), self.saved, strict=True):
            os.dup2(saved, fd)
            os.close(saved)

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
            room = max(self.limit - self.kept[i], 0)
            data = os.pread(fh.fileno(), min(size - start, room * 4), start) if room else b""
            text = data.decode("utf-8", errors="replace")[:room]
            self.kept[i] += len(text)
            meta = {"name": self.NAMES[i]}
            if self.kept[i] >= self.limit:
                meta["truncated"] = size
            if text or "truncated" in meta:
                outputs.append(Output(STREAM, text, meta))
        return outputs


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
