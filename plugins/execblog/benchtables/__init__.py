"""Benchmark tables for exec fences: time callables over a parameter grid on each backend.

Inside a session the engine injects ``benchmark`` (see :mod:`execblog.benchtables.hooks`); outside
one, build it with :func:`make_benchmark`.
"""

from __future__ import annotations

from .api import make_benchmark
from .table import BenchTable

__all__ = ["BenchTable", "make_benchmark"]
