"""Countdown (TinyZero's task): does the equation use the given numbers and hit the target?

The reference is JSON: ``{"target": 24, "numbers": [3, 5, 7, 2]}``. The final-answer region holds an
arithmetic expression (``(7 - 3) * 5 + 2 + 2`` …), optionally written as an equation with the target on one
side (``3 * 5 + 7 + 2 = 24``). TinyZero's rule: the integers in the expression must be exactly the given
numbers, each used once. Only ``+ - * /``, parentheses and integer literals are allowed; the expression is
parsed with :mod:`ast` and evaluated with exact fractions — nothing is ever ``eval``-ed.

Wrong answers score 0 with the reason (``numbers used [3, 5] but given [3, 5, 7]``); a reference that is
not that JSON is ``invalid`` (nobody could score against it).
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections import Counter
from fractions import Fraction
from typing import Any

from reward_service.grading.types import Grade, Reason

__all__ = ["grade_countdown", "parse_reference"]

MAX_EXPRESSION_CHARS = 300   # longer regions are not an equation of a handful of numbers
TOLERANCE = 1e-5             # TinyZero's comparison; exact fractions make it moot for integer targets

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_NUMBER = re.compile(r"-?\d{1,30}(?:\.\d{1,30})?")
_SYMBOLS = str.maketrans({"×": "*", "·": "*", "÷": "/", "\u2212": "-"})


class _Rejected(Exception):
    """The expression is not a plain +-*/ arithmetic over integers (the message says why)."""


def parse_reference(reference: str) -> tuple[Fraction, list[int]] | str:
    """(target, numbers), or the reason the reference is unusable."""
    try:
        data = json.loads(reference)
    except (json.JSONDecodeError, TypeError) as exc:
        return f"countdown reference is not JSON: {exc}"
    if not isinstance(data, dict) or "target" not in data or "numbers" not in data:
        return "countdown reference must be an object with 'target' and 'numbers'"
    target, numbers = data["target"], data["numbers"]
    if isinstance(target, bool) or not isinstance(target, int | float):
        return f"countdown target must be a number, got {target!r}"
    if not isinstance(numbers, list) or not numbers or \
            not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
        return f"countdown numbers must be a non-empty list of non-negative integers, got {numbers!r}"
    return Fraction(target), numbers


def _evaluate(node: ast.AST, used: list[int]) -> Fraction:
    """Exact value of ``node``; appends every integer literal to ``used``."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise _Rejected(f"only integers may appear, found {node.value!r}")
        used.append(node.value)
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _evaluate(node.left, used), _evaluate(node.right, used)
        if isinstance(node.op, ast.Div) and right == 0:
            raise _Rejected("division by zero")
        return _OPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        raise _Rejected("unary operators are not allowed (only + - * / between numbers)")
    raise _Rejected(f"not allowed in a countdown equation: {type(node).__name__}")


def _expression(region: str, target: Fraction) -> str | None:
    """The expression to evaluate: the region, or the non-target side of ``expr = target``."""
    text = region.strip().translate(_SYMBOLS).strip("$ \n.")
    if "=" not in text:
        return text
    sides = [s.strip() for s in text.split("=")]
    if len(sides) != 2:
        return None
    for expr, other in (sides, sides[::-1]):
        # A plain number only: Fraction("1e999999999") would build a billion-digit integer.
        if _NUMBER.fullmatch(other) and Fraction(other) == target:
            return expr
    return None


def _score(region: str, target: Fraction, numbers: list[int]) -> tuple[Reason | None, str | None, dict[str, Any]]:
    """(None, None, details) when the equation is right, else (code, why, details)."""
    unreadable = Reason.unparseable_answer
    if len(region) > MAX_EXPRESSION_CHARS:
        return Reason.answer_too_large, f"answer longer than {MAX_EXPRESSION_CHARS} characters", {}
    expr = _expression(region, target)
    if expr is None:
        return unreadable, "an equation must have the target alone on one side", {}
    if not expr:
        return Reason.no_answer, "empty answer", {}
    try:
        tree = ast.parse(expr, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return unreadable, "not an arithmetic expression", {}
    used: list[int] = []
    try:
        value = _evaluate(tree.body, used)
    except _Rejected as exc:
        return unreadable, str(exc), {}
    except RecursionError:
        return Reason.answer_too_large, "expression nested too deeply", {}
    details: dict[str, Any] = {"value": float(value), "numbers_used": used}
    if Counter(used) != Counter(numbers):
        return Reason.wrong_answer, f"numbers used {sorted(used)} but given {sorted(numbers)} (each exactly once)", \
            details
    if abs(value - target) >= TOLERANCE:
        return Reason.wrong_answer, f"equation gives {float(value):g}, not the target {float(target):g}", details
    return None, None, details


def grade_countdown(region: str, reference: str) -> Grade:
    """1.0 when ``region`` is an equation over exactly the given numbers that hits the target, else 0.0."""
    parsed = parse_reference(reference)
    if isinstance(parsed, str):
        return Grade.invalid(Reason.unparseable_reference, parsed)
    target, numbers = parsed
    code, reason, details = _score(region, target, numbers)
    return Grade.ok(0.0 if code else 1.0, code, reason, **details)
