"""IFEvalG's ``paragraphs:*`` (two, split by ``***`` or a blank line), ``first_word:*``, ``last_word:*``.

Words are whitespace-separated, compared case-insensitively; a last word is compared without its punctuation
(``[^\\w\\s]`` removed), a first word with it, as the reference compares them. Sentences: :mod:`.sentences`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.ifevalg.sentences import split_into_sentences
from reward_service.grading.ifeval.registry import Arg, rule


def _two_paragraphs(parts: list[str], divider: str) -> tuple[bool, str]:
    """Exactly two, an empty part allowed only first or last (Google's ``number_paragraphs`` count)."""
    if any(not part.strip() for part in parts[1:-1]):
        return False, f"an empty paragraph between two {divider} dividers"
    found = sum(1 for part in parts if part.strip())
    return found == 2, f"found {found} paragraphs, need 2"


@rule("paragraphs:paragraphs")
def paragraphs(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    return _two_paragraphs(re.split(r"\s?\*\*\*\s?", response), "***")


@rule("paragraphs:paragraphs2")
def paragraphs2(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    return _two_paragraphs(response.split("\n\n"), "blank-line")


def _without_punctuation(word: str) -> str:
    return re.sub(r"[^\w\s]", "", word).lower()


def _every_sentence(response: str, want: str, pick: Any, what: str) -> tuple[bool, str]:
    for sentence in split_into_sentences(response):
        if not sentence.strip():
            return False, "an empty sentence"
        word = pick(sentence.split())
        if word != want:
            return False, f"a sentence has {what} {word!r}, need {want!r}: {sentence[:60]!r}"
    return True, f"every sentence has {what} {want!r}"


@rule("first_word:first_word_sent", first_word=Arg.text)
def first_word_sent(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    return _every_sentence(response, kwargs["first_word"].lower(), lambda ws: ws[0].lower(), "first word")


@rule("first_word:first_word_answer", first_word=Arg.text)
def first_word_answer(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    first = response.split()[0]
    want = kwargs["first_word"]
    return first.lower() == want.lower(), f"first word {first!r}, need {want!r}"


@rule("last_word:last_word_sent", last_word=Arg.text)
def last_word_sent(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    return _every_sentence(response, kwargs["last_word"].lower(), lambda ws: _without_punctuation(ws[-1]),
                           "last word")


@rule("last_word:last_word_answer", last_word=Arg.text)
def last_word_answer(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    last = _without_punctuation(response.split()[-1])
    return last == kwargs["last_word"].lower(), f"last word {last!r}, need {kwargs['last_word']!r}"
