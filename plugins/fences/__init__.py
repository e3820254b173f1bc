"""Placeholder: the fence engine lands here."""


def register() -> None:
    pass
