"""Resumable sessions: parked copy-on-write snapshots of sessions, kept by the host.

With snapshots on (a long-lived executor: the preview), a session runs in a *tree*: a
guardian around a parked process holding a fresh session
(``execblog.executors.local.worker.tree_main``). A run is a fork of a parked state; after each
successful fence it forks a snapshot of itself that parks as well, blocked on a Unix socket. When a
session comes back with its fences 1..k-1 unchanged (same cache keys, which chain every earlier
fence's key, code, options and ``inputs=`` digests) and fence k edited, the run forks from the
snapshot of fence k-1 and runs fences k..n; the snapshot stays parked for the next edit.

This store is the host's side: which snapshots exist (keyed by post, session and the key
of their last fence), least recently used first, bounded in count and in private memory
(read from ``/proc/PID/smaps_rollup``); dropped snapshots are killed, and a tree without
snapshots is stopped. Where a state was not safe to fork (threads, started processes,
CUDA: the run says why), a later resume falls back and the reason is logged once.

The assumption, as in a notebook: a fence's result depends on the code and the declared
inputs of it and the fences before it, so a resumed run gives what a fresh run would.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from execblog.engine.model import Fence

from .forking import pid_alive

MAX_SNAPSHOTS = 64  # the memory bound is the real limit: a trivial snapshot costs ~3 MiB
MAX_SNAPSHOT_BYTES = 2 << 30  # private memory of all parked processes together
MEASURE_SECONDS = 1.0  # memory is read from /proc at most this often while a run parks


@dataclass
class Tree:
    """One session tree: its guardian process, the lifeline to its root, its folder."""

    proc: Any
    lifeline: Any
    folder: str
    address: str  # the root's socket: a fresh session
    root: int  # the root's pid
    runs: int = 0
    busy: int = 0  # runs in progress
    snapshots: int = 0

    def run_dir(self) -> str:
        self.runs += 1
        return os.path.join(self.folder, f"run-{self.runs}")


@dataclass
class Snapshot:
    """A parked process: the state of a session after the fence whose key it has."""

    tree: Tree
    address: str
    pid: int
    pidfd: int | None = None
    busy: int = 0

    def alive(self) -> bool:
        if self.pidfd is None:
            return pid_alive(self.pid)
        return not select.select([self.pidfd], [], [], 0)[0]  # readable once it exited

    def kill(self) -> None:
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            os.close(self.pidfd)
            self.pidfd = None
        else:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGKILL)


@dataclass
class Plan:
    """Where a run of a session starts: after ``snapshot`` (fences from ``start``), or at
    the beginning in a new tree (``snapshot`` None); ``note`` says why it could not start
    later, once."""

    start: int
    snapshot: Snapshot | None
    note: tuple[Fence, str] | None = None


@dataclass
class _Seen:
    keys: list[str] = field(default_factory=list)
    inputs: list[Any] = field(default_factory=list)


Place = tuple[str, str]  # (post path, session name)


class SnapshotStore:
    """The parked snapshots of one executor, least recently used first."""

    def __init__(self, stop_tree: Callable[[Tree], None], count: int = MAX_SNAPSHOTS,
                 memory: int = MAX_SNAPSHOT_BYTES):
        self.count, self.memory = count, memory
        self._stop_tree = stop_tree
        self._lock = threading.RLock()
        self._snaps: OrderedDict[tuple[Place, str], Snapshot] = OrderedDict()
        self._trees: list[Tree] = []
        self._refused: dict[tuple[Place, str], str] = {}  # (place, key): why no snapshot
        self._seen: dict[Place, _Seen] = {}
        self._noted: set[tuple[Place, str]] = set()
        self._measured = 0.0
        self._idle_trees: list[Tree] = []  # to stop once the lock is released

    # -- planning a run ---------------------------------------------------------------------
    def plan(self, fences: list[Fence], reusable: int, inputs: list[Any]) -> Plan:
        """The latest parked state among fences[:reusable] (their results are cached)."""
        with self._lock:
            plan = self._plan(fences, reusable, inputs)
        self._stop_idle_trees()
        return plan

    def _plan(self, fences: list[Fence], reusable: int, inputs: list[Any]) -> Plan:
        place = _place(fences[0])
        seen = self._seen.get(place)
        self._seen[place] = _Seen([f.key for f in fences], list(inputs))
        for i in range(reusable, 0, -1):
            key = (place, fences[i - 1].key)
            snap = self._snaps.get(key)
            if snap is None:
                continue
            if not snap.alive():
                self._drop(key)
                continue
            self._snaps.move_to_end(key)
            snap.busy += 1
            snap.tree.busy += 1
            return Plan(i, snap, self._note(place, fences, i, reusable, seen, inputs))
        return Plan(0, None, self._note(place, fences, 0, reusable, seen, inputs))

    def _note(self, place: Place, fences: list[Fence], start: int, reusable: int,
              seen: _Seen | None, inputs: list[Any]) -> tuple[Fence, str] | None:
        """Why the run starts before the first fence that changed (once per cause)."""
        why = None
        if start < reusable:
            first = fences[start]
            refused = self._refused.get((place, first.key))
            if refused:
                where = "its first fence" if start == 0 else f"the fence at line {first.line}"
                why = (first, f"session re-runs from {where}, not from the edited fence: no "
                       f"snapshot was kept after the fence at line {first.line}: {refused}")
        elif seen is not None and reusable < len(fences) and reusable < len(seen.keys):
            changed = fences[reusable]
            if (seen.keys[reusable] != changed.key and reusable < len(seen.inputs)
                    and seen.inputs[reusable] != inputs[reusable]):
                why = (changed, f"re-runs from line {changed.line}: the inputs= files of the "
                       "fence there changed since its snapshot")
        if why is None or (place, why[1]) in self._noted:
            return None
        self._noted.add((place, why[1]))
        return why

    def has(self, fence: Fence) -> bool:
        """Whether a live snapshot of the state after ``fence`` is parked, or its state was
        refused (a run would not park it again)."""
        key = (_place(fence), fence.key)
        with self._lock:
            snap = self._snaps.get(key)
            return key in self._refused or (snap is not None and snap.alive())

    # -- what runs report -----------------------------------------------------------------------
    def add_tree(self, tree: Tree) -> None:
        with self._lock:
            self._trees.append(tree)
            tree.busy += 1

    def parked(self, fence: Fence, tree: Tree, address: str, pid: int) -> None:
        """A run parked a snapshot of its state after ``fence``."""
        pidfd = None
        with contextlib.suppress(OSError, AttributeError):
            pidfd = os.pidfd_open(pid)
        key = (_place(fence), fence.key)
        with self._lock:
            if key in self._snaps:
                self._drop(key)
            self._snaps[key] = Snapshot(tree, address, pid, pidfd)
            tree.snapshots += 1
            self._refused.pop(key, None)
            self._bound(measure=time.monotonic() - self._measured > MEASURE_SECONDS)
        self._stop_idle_trees()

    def refused(self, fence: Fence, why: str) -> None:
        """A run could not snapshot its state after ``fence`` (nor after later fences)."""
        with self._lock:
            self._refused[(_place(fence), fence.key)] = why

    def release(self, snapshot: Snapshot | None, tree: Tree) -> None:
        """A run from ``snapshot`` (None: from ``tree``'s root) ended."""
        with self._lock:
            if snapshot is not None:
                snapshot.busy -= 1
            tree.busy -= 1
            self._bound()
            self._find_idle()
        self._stop_idle_trees()

    def forget(self, snapshot: Snapshot) -> None:
        """A snapshot that did not answer: drop it."""
        with self._lock:
            for key, snap in list(self._snaps.items()):
                if snap is snapshot:
                    self._drop(key)
        self._stop_idle_trees()

    # -- bounds -------------------------------------------------------------------------------
    def pids(self) -> list[int]:
        with self._lock:
            return [s.pid for s in self._snaps.values()]

    def private_bytes(self) -> int:
        """Private memory of every parked process: what the snapshots really cost."""
        with self._lock:
            pids = [s.pid for s in self._snaps.values()]
            pids += [t.root for t in self._trees]
        return sum(_private_bytes(pid) for pid in pids)

    def _bound(self, measure: bool = True) -> None:
        """Drop the least recently used idle snapshots beyond the count, then beyond the
        memory (private pages grow as the run they were forked from goes on)."""
        idle = [k for k, s in self._snaps.items() if not s.busy]
        while idle and len(self._snaps) > self.count:
            self._drop(idle.pop(0))
        if not measure:
            return
        self._measured = time.monotonic()
        while idle and self.private_bytes() > self.memory:
            self._drop(idle.pop(0))

    def _drop(self, key: tuple[Place, str]) -> None:
        snap = self._snaps.pop(key)
        snap.kill()
        snap.tree.snapshots -= 1
        self._find_idle()

    def _find_idle(self) -> None:
        """Trees without runs or snapshots are stopped (outside the lock: it takes time)."""
        for tree in [t for t in self._trees if not t.busy and not t.snapshots]:
            self._trees.remove(tree)
            self._idle_trees.append(tree)

    def _stop_idle_trees(self) -> None:
        with self._lock:
            trees, self._idle_trees = self._idle_trees, []
        for tree in trees:
            self._stop_tree(tree)

    def close(self) -> None:
        """Kill every snapshot and stop every tree (the executor shuts down)."""
        with self._lock:
            for snap in self._snaps.values():
                snap.kill()
            self._snaps.clear()
            trees, self._trees = self._trees + self._idle_trees, []
            self._idle_trees = []
        for tree in trees:
            self._stop_tree(tree)

    def guardians(self) -> list[Any]:
        """The trees' guardian processes (no lock: ``cancel`` calls it from a signal
        handler)."""
        return [t.proc for t in list(self._trees)]


def _place(fence: Fence) -> Place:
    # The post too: a session's first fence sets sys.argv and the folder is the post's.
    return (fence.path, fence.session)


def _private_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return 0
    total = 0
    for line in lines:
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1]) * 1024
    return total
