"""(being written)"""


def register() -> None:
    """Pelican entry point (being written)."""
