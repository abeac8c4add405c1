"""IFEvalG's ``count:*`` and ``letters:*``: lowercase words, letters, unique words, keywords once and twice,
and a composition of three ``***`` paragraphs with N sentences of M words each.

Words are NLTK's tokens where the reference uses ``nltk.word_tokenize`` (punctuation is a token),
``\\b[a-z]+\\b`` runs for lowercase words, ASCII letters for letters: each as the reference counts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.ifevalg.sentences import split_into_sentences
from reward_service.grading.ifeval.keywords import letter_frequency
from reward_service.grading.ifeval.registry import Arg, compare, rule
from reward_service.grading.ifeval.text import word_tokens

# IFEvalG's letter_counting2 is Google's LetterFrequencyChecker under a second id: the same rule and kwargs.
rule("letters:letter_counting2", letter=Arg.letter, let_frequency=Arg.count,
     let_relation=Arg.relation)(letter_frequency)


# N=0 and unset are the same to the reference (both draw N at random): N is required and positive.
@rule("count:lowercase_counting", N=Arg.positive)
def lowercase_counting(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = len(re.findall(r"\b[a-z]+\b", response))
    return found <= kwargs["N"], f"found {found} lowercase words, need at most {kwargs['N']}"


@rule("letters:letter_counting", N=Arg.positive, relation=Arg.relation)
def letter_counting(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = len(re.findall(r"[a-zA-Z]", response))
    return compare(found, kwargs["relation"], kwargs["N"], "letters")


@rule("count:count_unique")
def count_unique(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    words = word_tokens(response)
    seen: set[str] = set()
    repeated = [w for w in words if w in seen or seen.add(w)]  # type: ignore[func-returns-value]
    return not repeated, f"repeated {sorted(set(repeated))[:5]}" if repeated else "every word unique"


@rule("count:count_increment_word", keyword1=Arg.text, keyword2=Arg.text)
def count_increment_word(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    once, twice = (len(re.findall(re.escape(kwargs[k]), response, flags=re.IGNORECASE))
                   for k in ("keyword1", "keyword2"))
    return once == 1 and twice == 2, (f"found {once} times {kwargs['keyword1']!r} (need 1) and {twice} times "
                                      f"{kwargs['keyword2']!r} (need 2)")


@rule("count:counting_composition", n_sent=Arg.positive, n_words=Arg.positive)
def counting_composition(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    """Every ``***`` part (an empty first or last one too: the reference counts its 0 sentences) must have
    ``n_sent`` sentences of ``n_words`` tokens; then there must be three parts."""
    n_sent, n_words = kwargs["n_sent"], kwargs["n_words"]
    parts = re.split(r"\s?\*\*\*\s?", response)
    for number, part in enumerate(parts, 1):
        if not part.strip() and 1 < number < len(parts):
            return False, f"paragraph {number} is empty"
        sentences = split_into_sentences(part)
        if len(sentences) != n_sent:
            return False, f"paragraph {number} has {len(sentences)} sentences, need {n_sent}"
        lengths = [len(word_tokens(sentence)) for sentence in sentences]
        if any(length != n_words for length in lengths):
            return False, f"paragraph {number} has sentences of {lengths} words, need {n_words} each"
    return len(parts) == 3, f"found {len(parts)} paragraphs, need 3"
