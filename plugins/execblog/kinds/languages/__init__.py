"""Fence kinds for the languages technical bloggers write: bash, C, C++, Rust and CUDA C++.

Each kind is its own module and a plugin registered exactly like a third-party one (the
``pelican_fences`` entry points in pyproject.toml); they use only the engine's public
contract (``execblog.engine.hookimpl``, ``execblog.engine.model``,
``execblog.engine.options``). Shared steps have one
module each: ``toolchain`` (find a compiler, name it exactly), ``compiled`` (write, compile,
run), ``diagnostics`` (compiler messages -> post lines), ``program`` (run a process, say
how it ended) and ``export`` (a compiled library's functions in the Python session).
"""
