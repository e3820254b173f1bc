"""The atomic store every part of a build writes through, and the derived files it keeps.

Writes are atomic (a temporary file in the target's folder, then a rename) and get the usual
modes (0666 & ~umask). Files derived from results (dark figures, highlighted sources,
notebooks, the math font and formula store) are handed to pages as they are, some as raw
HTML, so each is sealed with the sha256 of its name and payload (:func:`keep_derived`) and
checked when read (:func:`read_derived`): a file damaged or edited by hand is a warning and
is made again, never trusted. The fence cache (``execblog.engine.cache``), the math
extension and the notebooks all keep theirs here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from execblog.kernel.diagnostics import emit, shown_path


def _read_umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_read_umask()  # what open() would give: mkstemp's 0600 is too strict


class CacheWriteError(OSError):
    """The cache could not be written (read-only folder, disk full...). The result is still
    good for this build; it is just not stored."""

    def __init__(self, path: str | os.PathLike[str], reason: str):
        super().__init__(f"cannot write {path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)  # folders: 0777 & ~umask, as mkdir -p
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def place(target: Path, data: bytes) -> None:
    """Make ``target`` hold ``data`` (atomically); one that holds it already is left alone.
    Never a hard link to a kept file: a tool that rewrites an output file in place would
    damage the cache through it."""
    if not holds(target, data):
        atomic_write(target, data)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def touch(path: Path) -> None:
    """Mark a kept file as used by this build (its mtime): ``invoke prune`` drops the files
    of the derived folders (``variants/``, ``notebooks/``, ``highlight/``) that its build did
    not use."""
    with contextlib.suppress(OSError):
        os.utime(path)


def holds(path: Path, data: bytes) -> bool:
    """Whether ``path`` exists with exactly ``data`` in it (size first, then bytes)."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


DERIVED_TAG = b"execblog-derived/1 sha256="
_DIGEST_CHARS = frozenset(b"0123456789abcdef")


class DerivedFileError(ValueError):
    """A derived file that cannot be used: damaged, edited, or not one this version wrote."""


def derived_digest(name: str, payload: bytes) -> str:
    """What a derived file's first line holds: sha256 of its name and its payload. The name
    is part of it because names are digests of what the file is made from (a dark figure's
    name is its light figure's hash): a sound file copied over another name is caught too."""
    return sha256(name.encode("utf-8", "surrogatepass") + b"\0" + payload)


def seal(name: str, payload: bytes) -> bytes:
    """The bytes of the derived file ``name`` holding ``payload``."""
    return DERIVED_TAG + derived_digest(name, payload).encode() + b"\n" + payload


def unseal(name: str, data: bytes) -> bytes:
    """The payload of the derived file ``name`` whose bytes are ``data``; raises
    :class:`DerivedFileError` unless its first line is the digest of its name and payload."""
    head, newline, payload = data.partition(b"\n")
    digest = head.removeprefix(DERIVED_TAG)
    if not newline or digest == head or len(digest) != 64 or not set(digest) <= _DIGEST_CHARS:
        raise DerivedFileError("no checksum: not written by this version, or edited")
    if digest.decode() != derived_digest(name, payload):
        raise DerivedFileError("checksum mismatch: edited or damaged")
    return payload


def read_derived(path: Path, check: Callable[[bytes], None] | None = None) -> bytes | None:
    """The payload of the derived file at ``path``, verified, or None.

    None without a word when there is no such file (not made yet); None with a warning that
    names the file when it cannot be read, its checksum does not match (damaged, edited by
    hand, truncated) or ``check`` (what the caller knows of its content) raises ``ValueError``:
    the caller then makes the file again and keeps the new one (:func:`keep_derived`), which
    replaces the bad one. A sound file is marked as used (:func:`touch`).

    Why the digest is in the file's first line rather than in a sidecar file or a name: one
    read per file (warm builds read every one of them), and file and digest are replaced
    together by one atomic rename, so an interrupted write, a partial checkout or a merge
    can never pair a file with another version's digest. Like an entry's checksum it catches
    damage and hand edits, not someone who recomputes it on purpose: what a reader can check
    against the post itself (a highlighted source's text, see ``fences.render``) is checked
    too, and ``FENCES_MODE = "rerun"`` reads no derived file at all.
    """
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        _derived_warning(path, f"cannot read it ({exc.strerror or exc})")
        return None
    try:
        payload = unseal(path.name, data)
        if check is not None:
            check(payload)
    except ValueError as exc:
        _derived_warning(path, str(exc) or type(exc).__name__)
        return None
    touch(path)  # used: invoke prune keeps it
    return payload


def keep_derived(path: Path, payload: bytes) -> bool:
    """Keep ``payload`` as the derived file ``path`` (atomically; a file that holds exactly
    that already is left alone, mtime aside, so a committed cache does not churn). False when
    the cache cannot be written: the file is made again next time, nothing else is lost."""
    data = seal(path.name, payload)
    try:
        if holds(path, data):
            touch(path)
        else:
            atomic_write(path, data)
    except OSError:
        return False
    return True


def trusts_derived(settings: dict[str, Any] | None) -> bool:
    """Whether a build reads kept derived files: not with ``FENCES_MODE = "rerun"``, which
    trusts nothing in the cache (every derived file is made again and, where it differs,
    rewritten)."""
    return (settings or {}).get("FENCES_MODE") != "rerun"


def _derived_warning(path: Path, why: str) -> None:
    emit(shown_path(str(path)), None, "warning",
         f"corrupt derived file in the fence cache ({why}); making it again")
