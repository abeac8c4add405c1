"""IFEvalG's formats: sentences joined by hyphens, each word in ``[ ]``, bigrams in ``<< >>``, no ``.``/``!``.

Words here are whitespace-separated runs (``str.split()``), as the reference splits them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.ifevalg.sentences import split_into_sentences
from reward_service.grading.ifeval.registry import rule


@rule("detectable_format:sentence_hyphens")
def sentence_hyphens(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    """The reference's test: each ``-``-separated piece, unpadded, is the sentence the splitter finds there
    (pairs compared up to the shorter list, so a response with no hyphen can pass: kept as the reference)."""
    pieces = response.split("-")
    sentences = split_into_sentences(response.replace("-", " "))
    for piece, sentence in zip(pieces, sentences, strict=False):
        if piece != piece.strip():
            return False, f"space around a hyphen at {piece[:40]!r}"
        if piece != sentence:
            return False, f"{piece[:40]!r} is not one whole sentence"
    return True, "sentences joined by hyphens"


@rule("detectable_format:square_brackets")
def square_brackets(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    bare = [word for word in response.split() if not (word.startswith("[") and word.endswith("]"))]
    return not bare, f"{len(bare)} words not in [ ], e.g. {bare[0]!r}" if bare else "every word in [ ]"


@rule("detectable_format:bigram_wrapping")
def bigram_wrapping(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    words = response.split()
    for i in range(0, len(words) - 1, 2):
        if not (words[i].startswith("<<") and words[i + 1].endswith(">>")):
            return False, f"words {i + 1}-{i + 2} {words[i]!r} {words[i + 1]!r} are not one <<bigram>>"
    return True, "every bigram in << >>"


@rule("punctuation:punctuation_dot")
def punctuation_dot(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = response.count(".")
    return not found, f"found {found} dots" if found else "no dot"


@rule("punctuation:punctuation_exclamation")
def punctuation_exclamation(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = response.count("!")
    return not found, f"found {found} exclamation marks" if found else "no exclamation mark"
