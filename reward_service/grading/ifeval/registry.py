"""The registry of instruction checkers: one entry per instruction id, nothing else dispatches on the id.

An entry is the id, the kwargs it takes (each with its :class:`Arg` kind, all required: a reference that
leaves one unset is invalid, never filled with a random default as Google's generator does), and a *rule*
``(response, kwargs, prompt) -> (followed, why)``. :func:`check` runs a rule IFEval's way: strict on the
response, loose on its loose variants (:func:`~.text.loose_variants`); an empty response follows nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from reward_service.grading.ifeval.text import loose_variants

__all__ = ["Arg", "Checker", "CHECKERS", "check", "rule"]

Rule = Callable[[str, Mapping[str, Any], str | None], tuple[bool, str]]


class Arg(Enum):
    """What a kwarg must be (validated in :mod:`.labels`)."""

    count = "a non-negative integer"
    positive = "a positive integer"
    text = "a non-empty string"
    words = "a non-empty list of non-empty strings"
    relation = "'less than' or 'at least'"
    language = "a language code langdetect knows (ISO 639-1, e.g. 'fr')"
    letter = "one letter a-z"


@dataclass(frozen=True)
class Checker:
    id: str
    args: Mapping[str, Arg]
    rule: Rule
    needs_prompt: bool = False   # a missing kwarg ``prompt_to_repeat`` is the item's prompt
    cross: Callable[[Mapping[str, Any]], str | None] = field(default=lambda kwargs: None)  # kwargs together

    def __call__(self, response: str, kwargs: Mapping[str, Any], prompt: str | None = None) -> tuple[bool, bool, str]:
        return check(self, response, kwargs, prompt)


CHECKERS: dict[str, Checker] = {}


def rule(instruction_id: str, *, needs_prompt: bool = False,
         cross: Callable[[Mapping[str, Any]], str | None] | None = None, **args: Arg) -> Callable[[Rule], Rule]:
    """Register the decorated function as the rule of ``instruction_id`` taking ``args``."""
    def add(fn: Rule) -> Rule:
        if instruction_id in CHECKERS:
            raise ValueError(f"instruction {instruction_id!r} registered twice")
        CHECKERS[instruction_id] = Checker(instruction_id, dict(args), fn, needs_prompt,
                                           cross or (lambda kwargs: None))
        return fn
    return add


def check(checker: Checker, response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, bool, str]:
    """(strict, loose, why): why is the rule's sentence on the response as given."""
    strict, why = checker.rule(response, kwargs, prompt) if response.strip() else (False, "empty response")
    loose = strict or any(variant.strip() and checker.rule(variant, kwargs, prompt)[0]
                          for variant in loose_variants(response)[1:])
    return strict, loose, why


def compare(actual: int, relation: str, threshold: int, what: str) -> tuple[bool, str]:
    """IFEval's two relations, and the sentence that says how it went."""
    ok = actual < threshold if relation == "less than" else actual >= threshold
    return ok, f"found {actual} {what}, need {relation} {threshold}"
