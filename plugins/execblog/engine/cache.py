"""The result store: a content-addressed folder that can be committed.

    <root>/entries/ab/<key>.json   one fence's result (outputs, backend, seconds, checksum)
    <root>/blobs/cd/<sha256>       binary or large payloads, named by their hash

Writes are atomic (temporary file + rename) and get the usual modes (0666 & ~umask). Reads
verify: an entry carries a checksum of what it holds, a blob must match its name, and any
damage is a miss with a warning, never a crash. Storing heals: a damaged blob is rewritten,
and an entry that would only change in ``seconds`` is left as it is (same bytes, same mtime:
re-runs do not churn a committed cache). Only successful results are stored.

Besides results, the cache folder keeps files derived from them (dark figures in
``variants/``, highlighted sources in ``highlight/``, notebooks in ``notebooks/``, the math
font and the formula store in ``mathkit/``), sealed and checked by the kernel's store
(``execblog.kernel.store``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execblog.kernel.diagnostics import emit, shown_path
from execblog.kernel.store import CacheWriteError, atomic_write, holds, sha256

from .model import FenceResult, Output

FORMAT = 2  # 2: entries carry a checksum
INLINE_LIMIT = 4096  # text payloads above this go to a blob
# What an entry's checksum covers: what the fence produced. ``seconds`` and ``backend`` are
# left out: how long it took and where it ran may be edited by hand (a result relabelled
# as made on a GPU) without making it a different result.
CHECKED = ("format", "key", "kind", "status", "outputs")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def checksum(record: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the checked fields of an entry."""
    return sha256(_canonical({k: record.get(k) for k in CHECKED}).encode())


# -- derived files ----------------------------------------------------------------------------
#: The first line of every derived file: this tag, then the sha256 (hex) of the file's name
#: and its payload (the bytes after that line).
@dataclass
class PruneStats:
    entries: int = 0  # entries removed
    blobs: int = 0  # blobs removed
    bytes: int = 0  # bytes freed
    kept: int = 0  # entries kept


class Cache:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def holds_nothing(self) -> bool:
        """Whether no result is stored at all (a fresh clone, a deleted cache): a cold build,
        whose sessions will all run."""
        try:
            with os.scandir(self.root / "entries") as found:
                return next(found, None) is None
        except OSError:
            return True

    def _entry_path(self, key: str) -> Path:
        return self.root / "entries" / key[:2] / f"{key}.json"

    def _blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / digest[:2] / digest

    def get(self, key: str) -> FenceResult | None:
        """The stored result for ``key``, or None (missing, older format, or damaged: warned)."""
        path = self._entry_path(key)
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):  # no entry, or no cache folder
            return None
        except OSError as exc:
            emit(shown_path(str(path)), None, "warning",
                 f"cannot read cache entry ({exc}); running again")
            return None
        try:
            record = json.loads(raw)
            if isinstance(record, dict) and record.get("format") != FORMAT:
                return None  # written by another version of the engine: a plain miss
            _check(record, key)
            return FenceResult(
                status=record["status"],
                outputs=[self._load_output(o) for o in record["outputs"]],
                seconds=float(record["seconds"]),
                backend=record.get("backend"),
            )
        except Exception as exc:  # any damage at all is a miss
            emit(shown_path(str(path)), None, "warning",
                 f"corrupt cache entry ({exc}); running again")
            return None

    def put(self, key: str, kind: str, result: FenceResult) -> None:
        """Store ``result`` under ``key``; blobs that are missing or damaged are (re)written.

        An existing entry that differs only in ``seconds`` is kept as it is. Raises
        :class:`CacheWriteError` when anything cannot be written.
        """
        record = {
            "format": FORMAT,
            "key": key,
            "kind": kind,
            "status": result.status,
            "seconds": round(result.seconds, 6),
            "backend": result.backend,
            "outputs": [self._store_output(o) for o in result.outputs],
        }
        record["checksum"] = checksum(record)
        path = self._entry_path(key)
        if _same_but_seconds(_stored_record(path, key), record):
            return
        _write(path, json.dumps(record, sort_keys=True, indent=1, ensure_ascii=False).encode())

    def _store_output(self, output: Output) -> dict[str, Any]:
        stored: dict[str, Any] = {"mime": output.mime, "meta": output.meta}
        data = output.data
        if isinstance(data, str) and len(data) <= INLINE_LIMIT:
            stored["text"] = data
            return stored
        payload = data if isinstance(data, bytes) else data.encode("utf-8")
        digest = sha256(payload)
        blob = self._blob_path(digest)
        if not holds(blob, payload):  # missing, truncated or altered: heal it
            _write(blob, payload)
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
        uses (and leftovers of interrupted writes). Damaged entries go too (unreadable, older
        format, bad checksum, a blob missing or not matching its name): they are misses
        anyway. So do blobs that do not match their name."""
        keep = set(keep)
        stats = PruneStats()
        sound = self._sound_blobs()
        used: set[str] = set()
        for path in sorted(self.root.glob("entries/*/*")):
            key = path.name.removesuffix(".json")
            digests = _blob_digests(path, key) if key in keep and path.suffix == ".json" else None
            if digests is None or not digests <= sound:
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

    def _sound_blobs(self) -> set[str]:
        """The names of the blobs whose content matches their name."""
        sound = set()
        for path in self.root.glob("blobs/*/*"):
            with contextlib.suppress(OSError):
                if sha256(path.read_bytes()) == path.name:
                    sound.add(path.name)
        return sound


def _check(record: Any, key: str) -> None:
    """Raise ValueError unless ``record`` is a whole, unedited entry of this format for key."""
    if not isinstance(record, dict):
        raise ValueError("not an entry")
    if record.get("format") != FORMAT or record.get("key") != key:
        raise ValueError("wrong format or key")
    if record.get("checksum") != checksum(record):
        raise ValueError("checksum mismatch: edited or damaged")


def _stored_record(path: Path, key: str) -> dict[str, Any] | None:
    """The sound entry at ``path``, or None."""
    try:
        record = json.loads(path.read_bytes())
        _check(record, key)
        return record
    except (OSError, ValueError):
        return None


def _same_but_seconds(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    if old is None:
        return False
    return _canonical({**old, "seconds": None}) == _canonical({**new, "seconds": None})


def _write(path: Path, data: bytes) -> None:
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise CacheWriteError(path, exc.strerror or str(exc)) from exc


def _blob_digests(entry: Path, key: str) -> set[str] | None:
    """The blobs a sound entry refers to, or None when it cannot be read or is damaged."""
    record = _stored_record(entry, key)
    try:
        return None if record is None else {o["blob"] for o in record["outputs"] if "blob" in o}
    except (KeyError, TypeError):
        return None


def _remove(path: Path) -> int:
    size = path.stat().st_size
    path.unlink()
    return size
