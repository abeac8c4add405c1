"""A function-call test's signature (``params``, ``returns``), and whether each test value fits it.

Typed languages need it to build their harness (Python does not, and ignores it). Everything is checked here,
on the host, before anything runs: a value that fits its type can always be read by every harness, so a
harness never fails on the tests, only on the submission. Types: ``int``, ``long``, ``double``, ``bool``,
``string``, ``char`` (one ASCII character), their arrays ``T[]`` and ``T[][]``, and LeetCode's ``ListNode``
(``[1,2,3]``) and ``TreeNode`` (level order, ``[1,null,2]``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SCALARS = ("int", "long", "double", "bool", "string", "char")
NODES = ("ListNode", "TreeNode")
ALIASES = {"integer": "int", "boolean": "bool", "character": "char", "String": "string"}  # LeetCode's spellings
_RANGES = {"int": 2**31, "long": 2**63}


class SignatureError(ValueError):
    """The signature or a value cannot be used; the message is one line (parse_tests turns it into BadTests)."""


@dataclass(frozen=True)
class Type:
    base: str      # one of SCALARS or NODES
    dims: int = 0  # 0 (a scalar or a node), 1 (T[]) or 2 (T[][])

    def __str__(self) -> str:
        return self.base + "[]" * self.dims

    @property
    def element(self) -> Type:
        return Type(self.base, self.dims - 1)


@dataclass(frozen=True)
class Signature:
    params: tuple[tuple[str, Type], ...]
    returns: Type


def parse_type(text: Any) -> Type:
    if not isinstance(text, str):
        raise SignatureError(f"a type must be a string, got {text!r}")
    base = text.replace(" ", "")
    dims = 0
    while base.endswith("[]"):
        base, dims = base[:-2], dims + 1
    base = ALIASES.get(base, base)
    if base not in SCALARS + NODES or dims > 2 or (base in NODES and dims):
        raise SignatureError(f"unknown type {text!r}: use int, long, double, bool, string, char, T[], T[][], "
                             "ListNode or TreeNode")
    return Type(base, dims)


def parse_signature(params: Any, returns: Any) -> Signature:
    if not isinstance(params, list):
        raise SignatureError("'params' must be a list of [name, type] pairs")
    parsed = []
    for param in params:
        if not (isinstance(param, list | tuple) and len(param) == 2 and isinstance(param[0], str)
                and param[0].isidentifier()):
            raise SignatureError(f"a parameter must be a [name, type] pair with an identifier name, got {param!r}")
        parsed.append((param[0], parse_type(param[1])))
    if returns == "void":
        raise SignatureError("'returns' of void is not supported: the function must return its answer")
    return Signature(tuple(parsed), parse_type(returns))


def _scalar_problem(value: Any, base: str) -> str | None:
    if base in _RANGES:
        if not isinstance(value, int) or isinstance(value, bool):
            return f"expected {base}, got {value!r:.40}"
        limit = _RANGES[base]
        return None if -limit <= value < limit else f"{value} does not fit {base}"
    if base == "double":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else f"expected a finite double, got {value!r:.40}"
    if base == "bool":
        return None if isinstance(value, bool) else f"expected true or false, got {value!r:.40}"
    if not isinstance(value, str):
        return f"expected {base}, got {value!r:.40}"
    if base == "char":
        return None if len(value) == 1 and value.isascii() else f"expected one ASCII character, got {value!r:.40}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "the string holds a lone surrogate, which no language's string can"
    return None


def _tree_problem(value: list[Any]) -> str | None:
    """Level order: each item is a child of an earlier non-null one, so the list must not outrun its parents."""
    if value and value[0] is None:
        return "a tree's root cannot be null (an empty tree is [])"
    present = 0
    for i, item in enumerate(value):
        if i and present <= (i - 1) // 2:
            return f"item {i} of the tree has no parent left to hang from"
        if item is not None:
            if _scalar_problem(item, "int"):
                return f"tree values must be int or null, got {item!r:.40}"
            present += 1
    return None


def problem(value: Any, kind: Type) -> str | None:
    """Why ``value`` does not fit ``kind``, or None when it does."""
    if kind.dims or kind.base in NODES:
        if not isinstance(value, list):
            return f"expected {kind} (a JSON list), got {value!r:.40}"
        if kind.base == "TreeNode":
            return _tree_problem(value)
        element = Type("int") if kind.base == "ListNode" else kind.element
        return next((why for why in (problem(item, element) for item in value) if why), None)
    return _scalar_problem(value, kind.base)


def canonical(value: Any, kind: Type) -> Any:
    """The value as a harness writes it: a tree's trailing nulls trimmed."""
    if kind.base == "TreeNode" and isinstance(value, list):
        while value and value[-1] is None:
            value = value[:-1]
    return value
