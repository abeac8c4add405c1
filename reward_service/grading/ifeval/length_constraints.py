"""``length_constraints:*``: sentences, words, ``***``-separated paragraphs, the nth paragraph's first word."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.registry import Arg, compare, rule
from reward_service.grading.ifeval.text import count_sentences, count_words


@rule("length_constraints:number_sentences", num_sentences=Arg.count, relation=Arg.relation)
def number_sentences(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    return compare(count_sentences(response), kwargs["relation"], kwargs["num_sentences"], "sentences")


@rule("length_constraints:number_words", num_words=Arg.count, relation=Arg.relation)
def number_words(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    return compare(count_words(response), kwargs["relation"], kwargs["num_words"], "words")


@rule("length_constraints:number_paragraphs", num_paragraphs=Arg.count)
def number_paragraphs(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    parts = re.split(r"\s?\*\*\*\s?", response)
    inner_empty = any(not p.strip() for p in parts[1:-1])
    found = sum(1 for p in parts if p.strip())
    if inner_empty:
        return False, "an empty paragraph between two *** dividers"
    return found == kwargs["num_paragraphs"], f"found {found} paragraphs, need {kwargs['num_paragraphs']}"


def _nth_in_range(kwargs: Mapping[str, Any]) -> str | None:
    if kwargs["nth_paragraph"] > kwargs["num_paragraphs"]:
        return f"nth_paragraph {kwargs['nth_paragraph']} is past num_paragraphs {kwargs['num_paragraphs']}"
    return None


def _first_word(paragraph: str) -> str:
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    return re.split(r"""[.,?!'"]""", word, maxsplit=1)[0].lower()


@rule("length_constraints:nth_paragraph_first_word", cross=_nth_in_range, num_paragraphs=Arg.count,
      nth_paragraph=Arg.positive, first_word=Arg.text)
def nth_paragraph_first_word(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    parts = re.split(r"\n\n", response)
    found = sum(1 for p in parts if p.strip())
    nth, want = kwargs["nth_paragraph"], kwargs["first_word"].lower()
    if nth > found or not parts[nth - 1].strip():
        return False, f"found {found} paragraphs; paragraph {nth} is missing or empty"
    first = _first_word(parts[nth - 1].strip())
    ok = found == kwargs["num_paragraphs"] and first == want
    return ok, f"found {found} paragraphs (need {kwargs['num_paragraphs']}); paragraph {nth} starts with {first!r}"
