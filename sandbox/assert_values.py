"""Values that cross between assert-style test code and the candidate: plain data only.

Test code compares what the candidate returns with ``==``; an object of the candidate's own (an ``__eq__``
that is always true, an ``int`` subclass) must never reach it. So a value crosses as JSON with tags for
what JSON lacks (tuples, dicts with any keys, sets, complex, bytes), built from exact types only, and is
rebuilt on the other side from that data alone. Standalone on purpose: its source is also embedded in the
candidate's harness and in the test process, which import nothing of ours.
"""

import json
import math

MAX_DEPTH = 200


def encode(value, depth=0):
    """JSON-ready data for ``value``; TypeError names the first value that is not plain data."""
    if depth > MAX_DEPTH:
        raise TypeError(f"a value nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is str:
        return value
    if kind is float:
        return value if math.isfinite(value) else {"F": repr(value)}
    if kind is list:
        return [encode(v, depth + 1) for v in value]
    if kind is tuple:
        return {"T": [encode(v, depth + 1) for v in value]}
    if kind is dict:
        return {"D": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        return {"S" if kind is set else "Z": [encode(v, depth + 1) for v in value]}
    if kind is complex:
        return {"C": [encode(value.real), encode(value.imag)]}
    if kind is bytes:
        return {"B": value.hex()}
    raise TypeError(f"a {kind.__name__} is not plain data (None, bool, int, float, str, list, tuple, dict, set, "
                    "complex, bytes)")


def decode(data, depth=0):
    """The value ``data`` stands for; ValueError when it is not what :func:`encode` makes."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deep")
    kind = type(data)
    if data is None or kind in (bool, int, float, str):
        return data
    if kind is list:
        return [decode(v, depth + 1) for v in data]
    if kind is not dict or len(data) != 1:
        raise ValueError("not a tagged value")
    ((tag, body),) = data.items()
    if tag == "F" and body in ("inf", "-inf", "nan"):
        return float(body)
    if tag == "B" and type(body) is str:
        return bytes.fromhex(body)
    if type(body) is not list:
        raise ValueError("a tag without a list")
    try:
        return _collection(tag, [decode(v, depth + 1) for v in body])
    except TypeError as exc:  # an unhashable key or member
        raise ValueError(str(exc)) from None


def _collection(tag, items):
    if tag == "T":
        return tuple(items)
    if tag == "S":
        return set(items)
    if tag == "Z":
        return frozenset(items)
    if tag == "D" and all(type(pair) is list and len(pair) == 2 for pair in items):
        return dict(items)
    if tag == "C" and len(items) == 2 and all(type(x) in (int, float) for x in items):
        return complex(items[0], items[1])
    raise ValueError(f"unknown tag {tag!r}")


def dumps(value):
    return json.dumps(encode(value))


def loads(text):
    try:
        return decode(json.loads(text))
    except RecursionError:
        raise ValueError("nested too deep") from None
