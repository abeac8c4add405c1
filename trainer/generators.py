"""Small data sets the project generates or ships: Countdown, arithmetic word problems, LeetCode-style code.

Every record has ``prompt`` (the question), ``task`` and the reference the service grades against
(``answer``; or ``tests`` and ``language`` for code), so any of them can be fed to ``grpo`` or ``sample``
as is. Generation is seeded and deterministic.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from fractions import Fraction
from importlib import resources
from typing import Any

Record = dict[str, Any]

COUNTDOWN_PROMPT = (
    "Using the numbers {numbers}, create an equation that equals {target}. You can use basic arithmetic "
    "operations (+, -, *, /) and each number must be used exactly once. Show your work in <think> </think> "
    "tags and return the final equation in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>."
)


def _random_equation(rng: random.Random, numbers: list[int]) -> tuple[str, Fraction]:
    """A random expression over all of ``numbers`` (shuffled), built by combining pairs."""
    terms: list[tuple[str, Fraction]] = [(str(n), Fraction(n)) for n in rng.sample(numbers, len(numbers))]
    while len(terms) > 1:
        (a, va), (b, vb) = terms.pop(), terms.pop()
        ops = ["+", "-", "*"] + (["/"] if vb != 0 and (va / vb).denominator == 1 else [])
        op = rng.choice(ops)
        value = {"+": va + vb, "-": va - vb, "*": va * vb, "/": va / vb if vb else va}[op]
        terms.append((f"({a} {op} {b})", value))
    return terms[0]


def countdown(n: int, *, seed: int = 0, count: tuple[int, int] = (3, 4), max_number: int = 99,
              max_target: int = 999) -> Iterator[Record]:
    """TinyZero's Countdown: reach the target with each number once. Targets are positive integers
    produced by a hidden random equation, so every problem is solvable."""
    rng = random.Random(seed)
    made = 0
    while made < n:
        numbers = [rng.randint(1, max_number) for _ in range(rng.randint(*count))]
        expr, value = _random_equation(rng, numbers)
        if value.denominator != 1 or not 0 < value <= max_target:
            continue
        made += 1
        target = int(value)
        yield {"prompt": COUNTDOWN_PROMPT.format(numbers=numbers, target=target), "task": "countdown",
               "answer": json.dumps({"target": target, "numbers": numbers}), "solution": expr[1:-1],
               "source": "countdown"}


_NAMES = ("Ava", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goro", "Hana", "Ivan", "Jo")
_ITEMS = ("apples", "marbles", "stickers", "books", "coins", "pencils", "cards", "shells")


def _word_problem(rng: random.Random) -> tuple[str, int]:
    name, other = rng.sample(_NAMES, 2)
    item = rng.choice(_ITEMS)
    a, b, c = rng.randint(2, 40), rng.randint(2, 20), rng.randint(2, 9)
    kind = rng.randrange(5)
    if kind == 0:
        return f"{name} has {a} {item} and buys {b} more. How many {item} does {name} have now?", a + b
    if kind == 1:
        a = a + b
        return f"{name} has {a} {item} and gives {b} to {other}. How many {item} does {name} have left?", a - b
    if kind == 2:
        return f"{name} buys {c} boxes of {item} with {b} {item} in each box. How many {item} is that?", b * c
    if kind == 3:
        return (f"{name} shares {b * c} {item} equally among {c} friends. How many {item} does each friend "
                "get?", b)
    return (f"{name} has {a} {item}. {other} has {c} times as many, then loses {b}. How many {item} does "
            f"{other} have?", a * c - b)


def arithmetic(n: int, *, seed: int = 0) -> Iterator[Record]:
    """One- and two-step arithmetic word problems with integer answers (a GSM8K in miniature)."""
    rng = random.Random(seed)
    for _ in range(n):
        question, answer = _word_problem(rng)
        yield {"prompt": question, "task": "math", "answer": str(answer), "source": "arithmetic"}


def leetcode() -> list[Record]:
    """The shipped LeetCode-style problems (``fn_name`` tests, Python), from ``trainer/shipped_data/leetcode.jsonl``."""
    text = resources.files("trainer").joinpath("shipped_data/leetcode.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


GENERATORS = {"countdown": countdown, "arithmetic": arithmetic}
