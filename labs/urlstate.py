"""Reading a lab's state from its URL: every value is checked, and anything a person did
not get from one of the page's own links (a tampered seed, a huge step count, digits from
another script) is refused with a sentence that says what is allowed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class LabInputError(ValueError):
    """Bad lab input: the view answers 400 with ``message``."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def whole_number(
    params: Mapping[str, str], name: str, *, low: int, high: int, default: int, what: str
) -> int:
    """An ASCII whole number in [low, high]; missing or empty means ``default``."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if len(raw) > 12 or not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise LabInputError(f"The {what} must be a whole number from {low} to {high}.")
    return int(raw)


def label(value: float) -> str:
    """How a choice is written in a URL and on the page: 0.5, 1, 0.04."""
    return f"{value:g}"


def choice(
    params: Mapping[str, str], name: str, options: Sequence[float], *, default: float, what: str
) -> float:
    """One of the page's own options, written as :func:`label` writes it."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    for option in options:
        if raw == label(option):
            return option
    allowed = ", ".join(label(o) for o in options)
    raise LabInputError(f"The {what} must be one of {allowed}.")


def flag(params: Mapping[str, str], name: str, *, what: str, default: bool = False) -> bool:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    if raw == "0":
        return False
    if raw == "1":
        return True
    raise LabInputError(f"The {what} switch must be 0 or 1.")


def slug(params: Mapping[str, str], name: str, known: Sequence[str], *, what: str) -> str:
    """One of ``known`` (the first when missing)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return known[0]
    if raw not in known:
        raise LabInputError(f"There is no {what} called “{raw[:40]}”.")
    return raw
