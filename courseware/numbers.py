"""The one way a number is read from a request.

`str.isdigit()` is true for "²" and "٣", `int()` accepts "٣" and "1_000" and refuses a
5,000-digit string (Python's integer-string limit) with a ValueError, and `float()`
accepts "nan" and "1e999". A request's numbers are therefore read here only: ASCII
digits, an optional sign where the caller allows one, a bounded length; anything else
is None, which each caller turns into its own readable 4xx or default.
"""

from __future__ import annotations

import re

#: Enough for every id, position and choice the site names (a bigint has 19 digits).
MAX_DIGITS = 18

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)


def parse_int(
    raw: object,
    *,
    max_digits: int = MAX_DIGITS,
    signed: bool = False,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """The whole number `raw` spells in ASCII digits, or None.

    Surrounding spaces are ignored; a sign is accepted only with `signed=True`; more than
    `max_digits` digits, anything outside [minimum, maximum], and every non-ASCII digit,
    underscore, decimal point or exponent give None."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if len(text) > max_digits + 1 or not _INTEGER.fullmatch(text):
        return None
    if text[0] in "+-":
        if not signed:
            return None
        digits = text[1:]
    else:
        digits = text
    if len(digits) > max_digits:
        return None
    value = int(text)
    if minimum is not None and value < minimum:
        return None
    if maximum is not None and value > maximum:
        return None
    return value


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def parse_decimal(raw: object, *, max_chars: int = 24, signed: bool = False) -> float | None:
    """A plain decimal number ("0.7", "2", ".5") in ASCII, or None: no exponent, no
    "nan"/"inf", no non-ASCII digits, at most `max_chars` characters."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if len(text) > max_chars or not _DECIMAL.fullmatch(text):
        return None
    if text[0] in "+-" and not signed:
        return None
    return float(text)
