"""The result store: a content-addressed folder that can be committed.

    <root>/entries/ab/<key>.json   one fence's result (outputs, backend, seconds)
    <root>/blobs/cd/<sha256>       binary or large payloads, named by their hash

Writes are atomic (temporary file + rename). A corrupt or partial entry is a miss with a
warning, never a crash; only successful results are stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import FenceResult, Output

log = logging.getLogger(__name__)

FORMAT = 1
INLINE_LIMIT = 4096  # text payloads above this go to a blob


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class PruneStats:
    entries: int = 0  # entries removed
    blobs: int = 0  # blobs removed
    bytes: int = 0  # bytes freed
    kept: int = 0  # entries kept


class Cache:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def _entry_path(self, key: str) -> Path:
        return self.root / "entries" / key[:2] / f"{key}.json"

    def _blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / digest[:2] / digest

    def get(self, key: str) -> FenceResult | None:
        """The stored result for ``key``, or None (missing, or corrupt: warned)."""
        path = self._entry_path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("fences: cannot read cache entry %s (%s); running again", path, exc)
            return None
        try:
            record = json.loads(raw)
            if record.get("format") != FORMAT or record.get("key") != key:
                raise ValueError("wrong format or key")
            return FenceResult(
                status=record["status"],
                outputs=[self._load_output(o) for o in record["outputs"]],
                seconds=float(record["seconds"]),
                backend=record.get("backend"),
            )
        except Exception as exc:  # any damage at all is a miss
            log.warning("fences: corrupt cache entry %s (%s); running again", path, exc)
            return None

    def put(self, key: str, kind: str, result: FenceResult) -> None:
        record = {
            "format": FORMAT,
            "key": key,
            "kind": kind,
            "status": result.status,
            "seconds": round(result.seconds, 6),
            "backend": result.backend,
            "outputs": [self._store_output(o) for o in result.outputs],
        }
        data = json.dumps(record, sort_keys=True, indent=1, ensure_ascii=False).encode()
        atomic_write(self._entry_path(key), data)

    def _store_output(self, output: Output) -> dict[str, Any]:
        stored: dict[str, Any] = {"mime": output.mime, "meta": output.meta}
        data = output.data
        if isinstance(data, str) and len(data) <= INLINE_LIMIT:
            stored["text"] = data
            return stored
        payload = data if isinstance(data, bytes) else data.encode("utf-8")
        digest = sha256(payload)
        blob = self._blob_path(digest)
        if not blob.exists():
            atomic_write(blob, payload)
        stored["blob"] = digest
        stored["binary"] = isinstance(data, bytes)
        return stored

    def _load_output(self, stored: dict[str, Any]) -> Output:
        if "text" in stored:
            return Output(stored["mime"], stored["text"], stored.get("meta") or {})
        digest = stored["blob"]
        payload = self._blob_path(digest).read_bytes()
        if sha256(payload) != digest:
            raise ValueError(f"blob {digest[:12]} does not match its hash")
        data: str | bytes = payload if stored.get("binary") else payload.decode("utf-8")
        return Output(stored["mime"], data, stored.get("meta") or {})

    def prune(self, keep: Iterable[str]) -> PruneStats:
        """Delete every entry whose key is not in ``keep``, then every blob no kept entry
        uses (and leftovers of interrupted writes). Unreadable entries go too: they are
        misses anyway."""
        keep = set(keep)
        stats = PruneStats()
        used: set[str] = set()
        for path in sorted(self.root.glob("entries/*/*")):
            key = path.name.removesuffix(".json")
            digests = _blob_digests(path) if key in keep and path.suffix == ".json" else None
            if digests is None:
                stats.entries += not path.name.startswith(".tmp-")
                stats.bytes += _remove(path)
            else:
                used |= digests
                stats.kept += 1
        for path in sorted(self.root.glob("blobs/*/*")):
            if path.name not in used:
                stats.blobs += not path.name.startswith(".tmp-")
                stats.bytes += _remove(path)
        for folder in [*self.root.glob("entries/*"), *self.root.glob("blobs/*")]:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        return stats


def _blob_digests(entry: Path) -> set[str] | None:
    """The blobs an entry refers to, or None when it cannot be read."""
    try:
        record = json.loads(entry.read_bytes())
        return {o["blob"] for o in record["outputs"] if "blob" in o}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remove(path: Path) -> int:
    size = path.stat().st_size
    path.unlink()
    return size
