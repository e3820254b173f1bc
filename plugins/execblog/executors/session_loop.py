"""The per-session loop, shared by every executor: one behaviour wherever sessions run.

An executor provides a :class:`SessionChannel` to one running session process; this loop
sends the fences one at a time, enforces each fence's timeout, keeps what a fence printed
before it timed out or crashed, and once one fails marks the rest of the session as
skipped, with messages that name the failing fence by its place in the content folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from execblog.engine import profiling
from execblog.engine.model import (
    CRASHED,
    ERROR,
    FAILED,
    SKIPPED,
    TIMEOUT,
    Fence,
    FenceResult,
    Output,
)

INTERRUPTED = "not run: the build was interrupted"


class TimedOut:
    """``receive`` found nothing within the time allowed."""


class Died:
    """``receive`` found the session process gone (crashed, killed, exited)."""


#: The longest a backend may take to start (importing CuPy, setting up CUDA) before the
#: fence counts as timed out anyway.
STARTUP_LIMIT = 300.0


@dataclass(frozen=True)
class Grace:
    """``receive`` heard that the running fence starts (``paused``) or has started an array
    backend: the time between is not counted against its timeout."""

    paused: bool


class SessionChannel(Protocol):
    """An executor's handle on one running session process."""

    def ready(self) -> bool:
        """Wait until the session process is up; False when it died first."""

    def send(self, fence: Fence) -> None:
        """Hand the next fence to the session."""

    def receive(self, timeout: float) -> FenceResult | TimedOut | Died | Grace:
        """The fence's result, or why there is none within ``timeout`` seconds, or a
        :class:`Grace` the session sent first."""

    def left_behind(self, fence: Fence) -> list[Output]:
        """What the running fence printed so far (read after a timeout or a crash)."""

    def stop(self) -> None:
        """Kill the session process and everything it started, now."""

    def death(self) -> str:
        """How the process ended, for messages: ``crashed (SIGSEGV)``, ``exited with ...``."""


def broken(status: str, message: str, printed: list[Output] | None = None) -> FenceResult:
    """A result made by the host for a fence the session could not answer for."""
    outputs = [*(printed or []), Output(ERROR, message, {})]
    return FenceResult(status=status, outputs=outputs, message=message)


def interrupted(fences: list[Fence]) -> list[FenceResult]:
    return [broken(SKIPPED, INTERRUPTED) for _ in fences]


def run_session(channel: SessionChannel, fences: list[Fence], default_timeout: float,
                cancelled: Callable[[], bool] = lambda: False) -> list[FenceResult]:
    """Run ``fences`` in order over ``channel``; one result per fence, always."""
    with profiling.phase("host: waiting for a session to be ready"):
        ready = channel.ready()
    if not ready:
        why = f"the session process {channel.death()} before running anything"
        return [broken(CRASHED, why) for _ in fences]
    results: list[FenceResult] = []
    for i, fence in enumerate(fences):
        channel.send(fence)
        limit = float(fence.options.timeout or default_timeout)
        answer = _answer(channel, limit)
        if cancelled():
            result = broken(SKIPPED, INTERRUPTED)
        elif isinstance(answer, TimedOut):
            printed = channel.left_behind(fence)
            channel.stop()
            result = broken(TIMEOUT, f"timed out after {limit:g} s (raise the limit with the "
                            "fence option timeout=SECONDS or the FENCES_TIMEOUT setting); the "
                            "session was stopped", printed)
        elif isinstance(answer, Died):
            printed = channel.left_behind(fence)
            result = broken(CRASHED, f"the session process {channel.death()}", printed)
        else:
            result = answer
        results.append(result)
        if result.status in (FAILED, TIMEOUT, CRASHED, SKIPPED):
            why = result.message if result.status == SKIPPED else (
                f"not run: {fence.public_location(result.line)} failed earlier in this session")
            results += [broken(SKIPPED, why) for _ in fences[i + 1 :]]
            break
    return results


def _answer(channel: SessionChannel, limit: float) -> FenceResult | TimedOut | Died:
    """The fence's answer within ``limit`` seconds of its own time: the clock stops while
    the session says it starts a backend (at most :data:`STARTUP_LIMIT` seconds)."""
    left, paused = limit, False
    while True:
        since = time.monotonic()
        answer = channel.receive(STARTUP_LIMIT if paused else max(0.0, left))
        if not isinstance(answer, Grace):
            return answer
        if not paused:
            left -= time.monotonic() - since
        paused = answer.paused
