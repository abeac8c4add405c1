"""Lone surrogates: strings Python holds but UTF-8 cannot encode.

JSON allows ``"\\udc80"`` (a client that decoded bytes with ``errors="surrogateescape"`` sends it), Python's
``json`` accepts it, and then every ``.encode()`` on the way out fails: hashing, the queue, the response.
Such an item fails alone (status ``invalid``) before anything encodes it, and whatever of it is echoed back
(its id) is made valid first.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

_SURROGATE = re.compile("[\ud800-\udfff]")

_FIELDS = ("id", "prompt", "completion", "answer", "tests", "language", "target_language", "source")


def _bad(value: Any) -> bool:
    if isinstance(value, str):
        if value.isascii():
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, BaseModel):
        return _bad(value.__dict__)
    if isinstance(value, dict):
        return any(_bad(k) or _bad(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_bad(v) for v in value)
    return False


def lone_surrogate_field(item: BaseModel) -> str | None:
    """The first field of ``item`` that holds a lone surrogate, or None."""
    return next((name for name in _FIELDS if _bad(getattr(item, name, None))), None)


def valid(value: Any) -> Any:
    """``value`` with lone surrogates replaced by U+FFFD when it is a string; anything else as is."""
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) and _bad(value) else value


def valid_deep(value: Any) -> Any:
    """:func:`valid` through dicts and lists (for error bodies that echo the input)."""
    if isinstance(value, dict):
        return {valid_deep(k): valid_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [valid_deep(v) for v in value]
    return valid(value)
