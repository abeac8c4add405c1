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

from reward_service.grading.ifeval.text import loose_variants, supported_languages

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
    verbatim = "a non-empty string (used as given, not stripped: Tulu 3's functions do not strip)"

    def coerce(self, value: Any) -> Any:
        """``value`` as this kind wants it (a string stripped, as the references strip), or None if it is not."""
        if self in (Arg.count, Arg.positive):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                return None
            return value if value >= (1 if self is Arg.positive else 0) else None
        if self is Arg.words:
            ok = isinstance(value, list) and value and all(isinstance(w, str) and w.strip() for w in value)
            return list(value) if ok else None  # not stripped: the reference matches them as given
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip()
        if self is Arg.verbatim:
            return value
        if self is Arg.relation:
            return text if text in ("less than", "at least") else None
        if self is Arg.language:
            return text if text in supported_languages() or text == "zh" else None
        if self is Arg.letter:
            return text.lower() if len(text) == 1 and "a" <= text.lower() <= "z" else None
        return text


@dataclass(frozen=True)
class Checker:
    id: str
    args: Mapping[str, Arg]
    rule: Rule
    needs_prompt: bool = False   # a missing kwarg ``prompt_to_repeat`` is the item's prompt
    cross: Callable[[Mapping[str, Any]], str | None] = field(default=lambda kwargs: None)  # kwargs together
    defaults: Mapping[str, Any] = field(default_factory=dict)  # fixed (never random) values the reference uses

    def __call__(self, response: str, kwargs: Mapping[str, Any], prompt: str | None = None) -> tuple[bool, bool, str]:
        return check(self, response, kwargs, prompt)


CHECKERS: dict[str, Checker] = {}


def rule(instruction_id: str, *, needs_prompt: bool = False,
         cross: Callable[[Mapping[str, Any]], str | None] | None = None,
         defaults: Mapping[str, Any] | None = None, **args: Arg) -> Callable[[Rule], Rule]:
    """Register the decorated function as the rule of ``instruction_id`` taking ``args``; ``defaults`` only
    for a kwarg the reference itself fills with a fixed value (a random default is never copied)."""
    def add(fn: Rule) -> Rule:
        if instruction_id in CHECKERS:
            raise ValueError(f"instruction {instruction_id!r} registered twice")
        CHECKERS[instruction_id] = Checker(instruction_id, dict(args), fn, needs_prompt,
                                           cross or (lambda kwargs: None), dict(defaults or {}))
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
