"""IFBench's ``words:*`` constraints, and the punctuation helpers the other IFBench modules share.

IFBench splits words on whitespace and strips or deletes ASCII punctuation (``string.punctuation``) before
comparing; we do the same, so that ``"it's"`` is the one word ``its`` where the reference says so.
Not registered: ``words:start_verb`` needs NLTK's POS tagger, whose data cannot be installed offline; a
label naming it is invalid ("unknown instruction id") rather than checked some other way.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

import syllapy

from reward_service.grading.ifeval.registry import Arg, rule
from reward_service.grading.ifeval.text import sentences, word_tokens

PUNCT_SPACE = string.punctuation + " "
_NO_PUNCT = str.maketrans("", "", string.punctuation)
_PRIMES = frozenset({2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97})


def no_punct(text: str) -> str:
    """``text`` without ASCII punctuation (IFBench's ``translate``)."""
    return text.translate(_NO_PUNCT)


def bare(word: str) -> str:
    """``word`` without ASCII punctuation or spaces at either end (IFBench's ``strip``)."""
    return word.strip(PUNCT_SPACE)


@rule("words:alphabet")
def alphabet(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    words = no_punct(response).split()
    if not words:
        return False, "no words"
    letter = words[0][0].lower()
    if letter not in string.ascii_lowercase:
        return False, f"first word {words[0]!r} does not start with a letter a-z"
    for index, word in enumerate(words[1:], start=2):
        letter = string.ascii_lowercase[(string.ascii_lowercase.index(letter) + 1) % 26]
        if word.lower()[0] != letter:
            return False, f"word {index} {word!r} starts with {word[0]!r}, need {letter!r}"
    return True, f"all {len(words)} words follow the alphabet"


@rule("words:vowel")
def vowel(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    lines = response.strip().split("\n")
    if len(lines) != 1:
        return False, f"found {len(lines)} lines, need one paragraph"
    used = sorted(set(lines[0].lower()) & set("aeiou"))
    return len(used) <= 3, f"uses {len(used)} vowels {''.join(used)!r}, need at most 3"


def _has_cluster(word: str) -> bool:
    consonants = "bcdfghjklmnpqrstvwxyz"
    return any(a in consonants and b in consonants for a, b in pairwise(word))


@rule("words:consonants")
def consonants(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    lacking = [word for word in response.lower().split() if not _has_cluster(word)]
    return not lacking, f"{lacking[0]!r} has no consonant cluster" if lacking else "every word has a cluster"


@rule("words:palindrome")
def palindrome(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = [w for w in no_punct(response).lower().split() if len(w) >= 5 and w == w[::-1]]
    return len(found) >= 10, f"found {len(found)} palindromes of 5+ characters, need at least 10"


@rule("words:prime_lengths")
def prime_lengths(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # The reference's primes stop at 97: a longer word fails even at a prime length; so does ours.
    bad = [w for w in no_punct(response).split() if len(w) not in _PRIMES]
    return not bad, f"{bad[0]!r} has {len(bad[0])} characters, not a prime" if bad else "all lengths prime"


@rule("words:repeats", small_n=Arg.count)
def repeats(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    word, times = (Counter(no_punct(response.lower()).split()).most_common(1) or [("", 0)])[0]
    limit = kwargs["small_n"]
    return times <= limit, f"{word!r} appears {times} times, need at most {limit}"


@rule("words:odd_even_syllables")
def odd_even_syllables(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    words = no_punct(response).lower().split()
    parity = [syllapy.count(word) % 2 for word in words]
    for i in range(len(parity) - 1):
        if parity[i] == parity[i + 1]:
            kind = "odd" if parity[i] else "even"
            return False, f"{words[i]!r} and {words[i + 1]!r} both have an {kind} number of syllables"
    return True, f"{len(words)} words alternate odd and even syllables"


@rule("words:last_first")
def last_first(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    parts = sentences(response)
    for i in range(len(parts) - 1):
        last, first = parts[i].rstrip(PUNCT_SPACE).split(), parts[i + 1].lstrip(PUNCT_SPACE).split()
        if not last or not first:
            return False, f"sentence {i + 1} or {i + 2} has no word"
        if last[-1].lower() != first[0].lower():
            return False, f"sentence {i + 1} ends with {last[-1]!r}, sentence {i + 2} starts with {first[0]!r}"
    return True, f"all {len(parts)} sentences chain"


@rule("words:paragraph_last_first")
def paragraph_last_first(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    for number, line in enumerate(response.split("\n"), start=1):
        words = bare(line.strip().lower()).split()
        if words and words[0] != words[-1]:
            return False, f"line {number} starts with {words[0]!r} and ends with {words[-1]!r}"
    return True, "every paragraph ends with its first word"


@rule("words:no_consecutive")
def no_consecutive(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    words = no_punct(response.lower()).split()
    for a, b in pairwise(words):
        if a[0] == b[0]:
            return False, f"{a!r} and {b!r} both start with {a[0]!r}"
    return True, "no two consecutive words share a first letter"


@rule("words:keywords_specific_position", keyword=Arg.text, n=Arg.positive, m=Arg.positive)
def keywords_specific_position(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # n, m positive: for 0 the reference picks a random position; a label with 0 is invalid here.
    n, m, keyword = kwargs["n"], kwargs["m"], kwargs["keyword"]
    parts = sentences(response)
    if len(parts) < n:
        return False, f"found {len(parts)} sentences, need sentence {n}"
    words = [token for token in word_tokens(parts[n - 1]) if any(ch.isalnum() for ch in token)]
    if len(words) < m:
        return False, f"sentence {n} has {len(words)} words, need word {m}"
    found = words[m - 1]
    return found.lower() == keyword.lower(), f"word {m} of sentence {n} is {found!r}, need {keyword!r}"


@rule("words:words_position", keyword=Arg.text)
def words_position(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    tokens, keyword = word_tokens(response), kwargs["keyword"].lower()
    # As the reference: a last token that is punctuation (a substring of string.punctuation) is skipped.
    skip = 1 if tokens and tokens[-1] in string.punctuation else 0
    if len(tokens) < 2 + skip:
        return False, f"found {len(tokens)} tokens, too few"
    second, second_last = tokens[1], tokens[-2 - skip]
    ok = second.lower() == second_last.lower() == keyword
    return ok, f"second word {second!r}, second-to-last {second_last!r}, need {kwargs['keyword']!r}"
