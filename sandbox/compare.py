"""Trusted comparison of a program's output with the expected one, outside the sandbox."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any


def _number(token: str) -> float | None:
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _same_token(got: str, want: str, tolerance: float | None) -> bool:
    if got == want:
        return True
    if tolerance is None:
        return False
    a, b = _number(got), _number(want)
    return a is not None and b is not None and abs(a - b) <= tolerance * max(1.0, abs(b))


def same_text(got: str, want: str, tolerance: float | None = None) -> bool:
    """Whitespace-separated tokens equal (so trailing spaces and newlines never matter); numeric tokens within
    ``tolerance`` (relative, absolute below 1) when it is set."""
    a, b = got.split(), want.split()
    return len(a) == len(b) and all(_same_token(x, y, tolerance) for x, y in zip(a, b, strict=True))


def same_lines(got: str, want: str) -> bool:
    """Lines equal once each loses its trailing whitespace (a CR of CRLF among it) and trailing empty lines
    are dropped: leading spaces and blank lines between others still count."""
    return _lines(got) == _lines(want)


def same_tokens_ignoring_case(got: str, want: str) -> bool:
    """Tokens equal case-insensitively (``YES``, ``yes`` and ``Yes`` answers)."""
    a, b = got.split(), want.split()
    return len(a) == len(b) and all(x.casefold() == y.casefold() for x, y in zip(a, b, strict=True))


def same_unordered_lines(got: str, want: str) -> bool:
    """The same multiset of non-empty lines, each stripped of surrounding whitespace (any order)."""
    return Counter(line for line in map(str.strip, _lines(got)) if line) == Counter(
        line for line in map(str.strip, _lines(want)) if line)


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def same_value(got: Any, want: Any, tolerance: float | None = None) -> bool:
    """JSON values equal: lists and tuples alike (JSON has only lists), floats within ``tolerance``."""
    if isinstance(got, bool) or isinstance(want, bool):
        return got is want
    if isinstance(got, int | float) and isinstance(want, int | float):
        if tolerance is None:
            return got == want
        return abs(got - want) <= tolerance * max(1.0, abs(want))
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(same_value(x, y, tolerance) for x, y in zip(got, want, strict=True))
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(same_value(got[k], want[k], tolerance) for k in got)
    return got == want and type(got) is type(want)


def parse_result(text: str | None) -> tuple[bool, Any]:
    """(ok, value) of the JSON a function-call harness wrote. The program may have written anything there:
    ``'[' * 100000`` is as much a failure to return a value as text that is not JSON."""
    if text is None:
        return False, None
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None
