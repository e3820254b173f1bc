"""The fence engine: a Pelican plugin that runs ``exec`` fences through pluggy plugins."""

from __future__ import annotations

__version__ = "0.1.0"

from .hookspecs import hookimpl  # noqa: E402  (public: plugins decorate with it)

__all__ = ["hookimpl", "register", "__version__"]


def register() -> None:
    """Pelican entry point: connect the engine to Pelican's signals."""
    from .pelican_glue import connect

    connect()
