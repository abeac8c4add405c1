"""IFEvalG's ``keywords:*``: a word once, N times, never; its place; a palindrome; same first and last word.

A keyword is matched as literal text (the reference compiles it as a regular expression; a label is a
caller's input, so we never do; the same for every plain word).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.ifevalg.sentences import split_into_sentences
from reward_service.grading.ifeval.registry import Arg, compare, rule
from reward_service.grading.ifeval.text import word_tokens


def _occurrences(keyword: str, response: str) -> int:
    return len(re.findall(re.escape(keyword), response, flags=re.IGNORECASE))


@rule("keywords:word_once", keyword=Arg.text)
def word_once(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = _occurrences(kwargs["keyword"], response)
    return found == 1, f"found {found} times {kwargs['keyword']!r}, need exactly 1"


@rule("keywords:word_count_different_numbers", keyword=Arg.text, frequency=Arg.count, relation=Arg.relation)
def word_count_different_numbers(response: str, kwargs: Mapping[str, Any],
                                 prompt: str | None) -> tuple[bool, str]:
    found = _occurrences(kwargs["keyword"], response)
    return compare(found, kwargs["relation"], kwargs["frequency"], f"times {kwargs['keyword']!r}")


@rule("keywords:exclude_word_harder", keyword=Arg.text)
def exclude_word_harder(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    """The reference's test, kept: the keyword with a space on each side, case-sensitive (so ``word.`` or
    ``Word`` at a sentence's start is not caught)."""
    found = f" {kwargs['keyword']} " in response
    return not found, f"uses {kwargs['keyword']!r}" if found else f"no ' {kwargs['keyword']} '"


@rule("keywords:no_adjacent_consecutive")
def no_adjacent_consecutive(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    words = response.split()
    for first, second in zip(words, words[1:], strict=False):
        a, b = first[0].lower(), second[0].lower()
        if len(a) != 1 or len(b) != 1 or ord(b) - ord(a) == 1:
            return False, f"{first!r} then {second!r} start with consecutive letters"
    return True, "no two adjacent words start with consecutive letters"


@rule("keywords:palindrome")
def palindrome(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    """Any whitespace-separated word read the same backwards, one letter (``a``, ``I``) included, as there."""
    found = next((word for word in response.split() if word == word[::-1]), None)
    return found is not None, f"palindrome {found!r}" if found is not None else "no palindrome"


@rule("keywords:keyword_specific_position", keyword=Arg.text, n=Arg.positive, m=Arg.positive)
def keyword_specific_position(response: str, kwargs: Mapping[str, Any],
                              prompt: str | None) -> tuple[bool, str]:
    """Word ``m`` (NLTK's tokens: punctuation counts) of sentence ``n``, matched exactly, case included."""
    n, m, keyword = kwargs["n"], kwargs["m"], kwargs["keyword"]
    sentences = split_into_sentences(response)
    if len(sentences) < n:
        return False, f"found {len(sentences)} sentences, need sentence {n}"
    words = word_tokens(sentences[n - 1])
    if len(words) < m:
        return False, f"sentence {n} has {len(words)} words, need word {m}"
    return words[m - 1] == keyword, f"word {m} of sentence {n} is {words[m - 1]!r}, need {keyword!r}"


@rule("keywords:start_end")
def start_end(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    words = word_tokens(response)
    if len(words) < 2:
        return False, f"found {len(words)} words, need at least 2"
    ok = words[0].lower() == words[-1].lower()
    return ok, f"starts with {words[0]!r} and ends with {words[-1]!r}"
