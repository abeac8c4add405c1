"""IFBench's ``sentence:*`` constraints: growing alliteration, a keyword in the nth sentence, growing length."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from reward_service.grading.ifeval.ifbench.words import no_punct
from reward_service.grading.ifeval.registry import Arg, rule
from reward_service.grading.ifeval.text import sentences


def _alliteration(sentence: str) -> int:
    """Words in runs of two or more that share a first letter (IFBench's count: 2 for a pair, +1 after)."""
    words = [w for w in (w.lstrip(string.punctuation + " ") for w in sentence.lower().split()) if w]
    total, in_run = 0, False
    for a, b in pairwise(words):
        same = a[0] == b[0]
        total += (1 if in_run else 2) if same else 0
        in_run = same
    return total


@rule("sentence:alliteration_increment")
def alliteration_increment(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    counts = [_alliteration(s) for s in sentences(response)]
    for i in range(1, len(counts)):
        if counts[i] <= counts[i - 1]:
            return False, f"alliterative words per sentence {counts}: sentence {i + 1} does not grow"
    return True, f"alliterative words per sentence {counts}"


@rule("sentence:keyword", word=Arg.verbatim, N=Arg.positive)
def keyword(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # N positive: for N = 0 the reference checks the last sentence; such a label is invalid here.
    parts, nth, word = sentences(response), kwargs["N"], kwargs["word"]
    if len(parts) < nth:
        return False, f"found {len(parts)} sentences, need sentence {nth}"
    found = re.search(rf"\b{re.escape(word)}\b", parts[nth - 1], flags=re.IGNORECASE)
    return bool(found), f"sentence {nth} {'has' if found else 'lacks'} {word!r}"


@rule("sentence:increment", small_n=Arg.count)
def increment(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    counts = [len(no_punct(s).split()) for s in sentences(response)]
    step = kwargs["small_n"]
    if not counts:
        return False, "no sentences"  # the reference crashes here
    for i in range(1, len(counts)):
        if counts[i] != counts[i - 1] + step:
            return False, f"words per sentence {counts}: sentence {i + 1} is not {step} longer"
    return True, f"words per sentence {counts}"
