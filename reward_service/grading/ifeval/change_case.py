"""``change_case:*``: all-capital words counted; all upper or all lower case, in English (langdetect)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.language import same_language
from reward_service.grading.ifeval.registry import Arg, compare, rule
from reward_service.grading.ifeval.text import detect_language, word_tokens


@rule("change_case:capital_word_frequency", capital_frequency=Arg.count, capital_relation=Arg.relation)
def capital_word_frequency(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = sum(1 for word in word_tokens(response) if word.isupper())
    return compare(found, kwargs["capital_relation"], kwargs["capital_frequency"], "all-capital words")


def _english(response: str, cased: bool, case: str) -> tuple[bool, str]:
    if not cased:
        return False, f"not all {case} case"
    detected = detect_language(response)
    return same_language(detected, "en"), f"all {case} case; detected {detected or 'no language'}"


@rule("change_case:english_capital")
def english_capital(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    return _english(response, response.isupper(), "upper")


@rule("change_case:english_lowercase")
def english_lowercase(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    return _english(response, response.islower(), "lower")
