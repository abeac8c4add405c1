"""IFBench's ``count:*`` constraints: words, unique words, conjunctions, names, numbers, punctuation, pronouns."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.ifbench.words import bare, no_punct
from reward_service.grading.ifeval.registry import Arg, rule
from reward_service.grading.ifeval.text import count_words, word_tokens

_CONJUNCTIONS = frozenset({"and", "but", "for", "nor", "or", "so", "yet"})
_NAMES = (
    "Emma Liam Sophia Jackson Olivia Noah Ava Lucas Isabella Mason Mia Ethan Charlotte Alexander Amelia Benjamin "
    "Harper Leo Zoe Daniel Chloe Samuel Lily Matthew Grace Owen Abigail Gabriel Ella Jacob Scarlett Nathan "
    "Victoria Elijah Layla Nicholas Audrey David Hannah Christopher Penelope Thomas Nora Andrew Aria Joseph "
    "Claire Ryan Stella Jonathan"
).split()
_NAME_PATTERNS = [(name, re.compile(rf"\b{name}\b")) for name in _NAMES]
_PRONOUNS = frozenset((
    "i me we us you he him she her it they them my mine our ours your yours his hers its their theirs myself "
    "ourselves yourself yourselves himself herself itself themselves this that these those who whom whose which "
    "what whoever whomever whatever whichever anybody anyone anything everybody everyone everything nobody "
    "nothing somebody someone something each either neither both all some any none"
).split())
_MARKS = ".,!?;:"
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_MULTIPLES = (("keyword1", 1), ("keyword2", 2), ("keyword3", 3), ("keyword4", 5), ("keyword5", 7))


def _min_le_max(kwargs: Mapping[str, Any]) -> str | None:
    if kwargs["min_words"] > kwargs["max_words"]:
        return f"min_words {kwargs['min_words']} is above max_words {kwargs['max_words']}"
    return None


@rule("count:word_count_range", cross=_min_le_max, min_words=Arg.count, max_words=Arg.count)
def word_count_range(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found, low, high = count_words(response), kwargs["min_words"], kwargs["max_words"]
    return low <= found <= high, f"found {found} words, need {low} to {high}"


@rule("count:unique_word_count", N=Arg.count)
def unique_word_count(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # As the reference: a token of punctuation only counts once, as the empty word.
    found = len({bare(word) for word in response.lower().split()})
    return found >= kwargs["N"], f"found {found} unique words, need at least {kwargs['N']}"


@rule("count:conjunctions", small_n=Arg.count)
def conjunctions(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # Deviation: the reference counts the raw tokens, so "and", "And" and "and," are three different
    # conjunctions; we count each conjunction once, whatever its case or punctuation.
    found = sorted({bare(word).lower() for word in response.split()} & _CONJUNCTIONS)
    need = kwargs["small_n"]
    return len(found) >= need, f"found {len(found)} different conjunctions {found}, need at least {need}"


@rule("count:person_names", N=Arg.count)
def person_names(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = [name for name, pattern in _NAME_PATTERNS if pattern.search(response)]
    return len(found) >= kwargs["N"], f"found {len(found)} names from the list, need at least {kwargs['N']}"


@rule("count:numbers", N=Arg.count)
def numbers(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # As the reference: punctuation is deleted first, so "3.5" and "1,000" are one number each.
    found = len(re.findall(r"\d+", no_punct(response)))
    return found == kwargs["N"], f"found {found} numbers, need exactly {kwargs['N']}"


@rule("count:punctuation")
def punctuation(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    if not ("!?" in response or "?!" in response or "‽" in response):
        return False, "no interrobang (?!, !? or ‽)"
    rest = response.replace("?!", "", 1)
    if len(rest) == len(response):
        rest = response.replace("!?", "", 1)
    missing = [mark for mark in _MARKS if mark not in rest]
    return not missing, f"missing {' '.join(missing)} besides the interrobang" if missing else "all marks used"


@rule("count:words_japanese", N=Arg.positive)
def words_japanese(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # N positive: the reference divides by N (0 crashes it; a negative one it replaces by a random N).
    nth = kwargs["N"]
    for index, word in enumerate(response.split(), start=1):
        word = bare(word)
        if index % nth == 0 and word and not word.isdigit() and not _JAPANESE.search(word):
            return False, f"word {index} {word!r} is not Japanese"
    return True, f"every word at a multiple of {nth} is Japanese"


@rule("count:pronouns", N=Arg.count)
def pronouns(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # "/" split as the reference splits it, so that "she/her/hers" is three pronouns.
    found = sum(1 for token in word_tokens(response.replace("/", " ").lower()) if token in _PRONOUNS)
    return found >= kwargs["N"], f"found {found} pronouns, need at least {kwargs['N']}"


@rule("count:keywords_multiple", keyword1=Arg.text, keyword2=Arg.text, keyword3=Arg.text, keyword4=Arg.text,
      keyword5=Arg.text)
def keywords_multiple(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    text = response.lower()
    for name, need in _MULTIPLES:
        found = text.count(kwargs[name].lower())
        if found != need:
            return False, f"{kwargs[name]!r} appears {found} times, need exactly {need}"
    return True, "every keyword appears as often as asked"
