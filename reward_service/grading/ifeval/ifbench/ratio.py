"""IFBench's ``ratio:*`` constraints: stop words, sentence types, trigram overlap, equal-length sentences."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.registry import Arg, rule
from reward_service.grading.ifeval.text import sentences

# NLTK's English stop word list (``nltk.corpus.stopwords.words("english")``, 179 words): its data cannot be
# downloaded here. Newer NLTK data adds contractions such as "i'm"; none can match a ``\w+`` word, so the
# verdicts are the same with either list.
STOPWORDS = frozenset((
    "i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him "
    "his himself she she's her hers herself it it's its itself they them their theirs themselves what which who "
    "whom this that that'll these those am is are was were be been being have has had having do does did doing "
    "a an the and but if or because as until while of at by for with about against between into through during "
    "before after above below to from up down in out on off over under again further then once here there when "
    "where why how all any both each few more most other some such no nor not only own same so than too very s "
    "t can will just don don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn "
    "didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't "
    "needn needn't shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't"
).split())


@rule("ratio:stop_words", percentage=Arg.count)
def stop_words(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    words = re.findall(r"\w+", response)
    if not words:
        return False, "no words"
    # (found / total) * 100 in the reference's order: the float at a boundary is the same.
    share = sum(1 for word in words if word.lower() in STOPWORDS) / len(words) * 100
    return share <= kwargs["percentage"], f"stop words are {share:.1f}% of {len(words)} words, " \
                                          f"need at most {kwargs['percentage']}%"


def _ending_counts(response: str) -> tuple[int, int, int]:
    """Sentences ending in ``.``, ``?``, ``!`` (IFBench's sentence types)."""
    parts = sentences(response)
    return tuple(sum(1 for s in parts if s.endswith(mark)) for mark in ".?!")  # type: ignore[return-value]


@rule("ratio:sentence_type")
def sentence_type(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # Deviation: the reference passes 0 declarative to 0 interrogative sentences ("Wow!" keeps a 2:1
    # ratio); we need at least one question.
    declarative, interrogative, _ = _ending_counts(response)
    ok = interrogative > 0 and declarative == 2 * interrogative
    return ok, f"found {declarative} declarative and {interrogative} interrogative sentences, need 2:1"


@rule("ratio:sentence_balance")
def sentence_balance(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # Deviation: the reference passes a response with none of the three types; we need at least one each.
    declarative, interrogative, exclamatory = _ending_counts(response)
    ok = declarative > 0 and declarative == interrogative == exclamatory
    return ok, (f"found {declarative} declarative, {interrogative} interrogative and {exclamatory} "
                "exclamatory sentences, need as many of each")


def _trigrams(text: str) -> set[str]:
    return {text[i:i + 3] for i in range(len(text) - 2)}


@rule("ratio:overlap", reference_text=Arg.verbatim, percentage=Arg.count)
def overlap(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # The reference's trigrams are of characters (nltk.ngrams over a string), the share of the response's.
    ours = _trigrams(response)
    if not ours:
        return False, "fewer than 3 characters"
    share = len(ours & _trigrams(kwargs["reference_text"])) / len(ours) * 100
    want = kwargs["percentage"]
    return want - 2 <= share <= want + 2, f"trigram overlap is {share:.1f}%, need {want}% (±2)"


@rule("ratio:sentence_words")
def sentence_words(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # As the reference: three sentences of one length; that their words differ is not checked.
    lengths = [len(s.strip()) for s in sentences(response)]
    ok = len(lengths) == 3 and len(set(lengths)) == 1
    return ok, f"found {len(lengths)} sentences of {lengths} characters, need 3 of the same length"
