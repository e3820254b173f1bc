"""Stored outputs in a fence: how a notebook's saved outputs travel to the page.

A notebook post read with ``NOTEBOOK_EXECUTE = "stored"`` (``execblog.sources``) turns
each code cell into a ```` ```python stored outputs=... ```` fence; the ``stored`` kinds
(``execblog.kinds.stored``) show those outputs without running anything. The option's value
is the outputs as the host read them from nbformat (text for text, base64 for images,
tracebacks without terminal colours), as JSON, compressed, in URL-safe base64: one word, so
the fence opener stays one line. It affects the result, so new stored outputs make a new
cache key.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from execblog.engine.model import ERROR, STREAM, Output

MARKER = "stored"
# The languages whose cells can be shown this way: the kinds that run them here.
LANGUAGES = {"python": "stored-python", "bash": "stored-bash"}
# What a notebook's display data shows, first found first (the display protocol's order).
PREFERRED = ("text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown",
             "text/latex", "text/plain")
BINARY = frozenset({"image/png", "image/jpeg"})


def encode_outputs(outputs: list[Any]) -> str:
    """nbformat outputs -> the ``outputs`` option's value (only what the page can show)."""
    records = [r for r in (_record(o) for o in outputs) if r is not None]
    raw = json.dumps(records, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode_outputs(text: str) -> list[Output]:
    """The ``outputs`` option's value -> engine outputs; ValueError when it is not one."""
    try:
        records = json.loads(zlib.decompress(base64.urlsafe_b64decode(text.encode("ascii"))))
    except (binascii.Error, zlib.error, UnicodeError, ValueError) as exc:
        raise ValueError(f"not stored outputs ({exc})") from None
    if not isinstance(records, list):
        raise ValueError("not stored outputs")
    return [_output(r) for r in records if isinstance(r, dict)]


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _record(output: Any) -> dict[str, Any] | None:
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return {"mime": STREAM, "data": _text(output.get("text")), "meta": {"name": name}}
    if kind == "error":
        from execblog.engine.render import terminal_text  # (Markdown, Pygments: the host's)

        lines = [terminal_text(str(line)) for line in output.get("traceback") or []]
        text = "\n".join(lines) or f"{output.get('ename')}: {output.get('evalue')}"
        return {"mime": ERROR, "data": text, "meta": {"ename": str(output.get("ename") or "")}}
    if kind not in ("execute_result", "display_data"):
        return None
    data = output.get("data") or {}
    mime = next((m for m in PREFERRED if m in data), None)
    if mime is None:
        return None
    meta: dict[str, Any] = {}
    if mime.startswith("image/"):
        meta["figure"] = True
        size = (output.get("metadata") or {}).get(mime) or {}
        meta.update({k: int(size[k]) for k in ("width", "height")
                     if isinstance(size, dict) and isinstance(size.get(k), int | float)})
    payload = _text(data[mime])
    if mime in BINARY:
        payload = "".join(payload.split())  # nbformat may wrap base64 in lines
    return {"mime": mime, "data": payload, "meta": meta}


def _output(record: dict[str, Any]) -> Output:
    mime = str(record.get("mime") or "text/plain")
    data: str | bytes = str(record.get("data") or "")
    if mime in BINARY:
        data = base64.b64decode(data)
    return Output(mime, data, dict(record.get("meta") or {}))
