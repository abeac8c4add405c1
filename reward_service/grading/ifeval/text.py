"""Text processing the IFEval verdicts depend on, chosen to count as Google's reference counts.

* Words: the reference counts ``\\w+`` runs (NLTK's ``RegexpTokenizer(r"\\w+")``); so do we, with ``re``.
* Sentences: the reference uses NLTK's trained English ``punkt`` model, whose data cannot be downloaded here
  (and no PyPI package ships it that we would trust). We use NLTK's own Punkt algorithm (``nltk`` on PyPI,
  pure Python, no data files) untrained, given the common English abbreviations the trained model knows, so
  that ``Dr. Smith`` or ``e.g. this`` is one sentence. Rare abbreviations may split where punkt would not:
  the agreement bench measures it.
* Words for ``capital_word_frequency``: the reference's ``nltk.word_tokenize`` is those sentences, each
  through NLTK's Treebank-style word tokenizer (no data files needed); we do the same.
* Language: ``langdetect`` (PyPI), as the reference, but seeded (``DetectorFactory.seed = 0``): unseeded it
  is random on short or mixed text, and a reward must be deterministic.
"""

from __future__ import annotations

import functools
import re

__all__ = ["count_sentences", "count_words", "detect_language", "loose_variants", "warmup", "word_tokens"]

_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "etc", "e.g", "i.e", "inc", "ltd",
    "co", "corp", "u.s", "u.k", "a.m", "p.m", "no", "fig", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "gen", "col", "capt", "lt", "sgt", "rev", "gov", "sen", "rep", "dept",
    "univ", "approx", "est", "ave", "blvd", "rd", "p.s", "p.p.s",
})


def count_words(text: str) -> int:
    return len(re.findall(r"\w+", text))


@functools.lru_cache(maxsize=1)
def _sentence_tokenizer():  # type: ignore[no-untyped-def]
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    params = PunktParameters()
    params.abbrev_types = set(_ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def sentences(text: str) -> list[str]:
    return list(_sentence_tokenizer().tokenize(text))


def count_sentences(text: str) -> int:
    return len(sentences(text))


def word_tokens(text: str) -> list[str]:
    """``nltk.word_tokenize``'s tokens, with our sentence splitter."""
    from nltk.tokenize import NLTKWordTokenizer
    tokenizer = NLTKWordTokenizer()
    return [token for sentence in sentences(text) for token in tokenizer.tokenize(sentence)]


@functools.lru_cache(maxsize=1)
def _langdetect():  # type: ignore[no-untyped-def]
    import langdetect
    langdetect.DetectorFactory.seed = 0
    return langdetect


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code langdetect gives ``text`` (None when it finds no features: the reference then
    counts the instruction as followed, and so do the checkers that ask)."""
    langdetect = _langdetect()
    try:
        return str(langdetect.detect(text))
    except langdetect.LangDetectException:
        return None


@functools.lru_cache(maxsize=1)
def supported_languages() -> frozenset[str]:
    """The codes langdetect can answer with: a label asking for another can never be followed."""
    langdetect = _langdetect()
    langdetect.detector_factory.init_factory()
    return frozenset(langdetect.detector_factory._factory.get_lang_list())


def loose_variants(response: str) -> list[str]:
    """IFEval's loose responses: as is, first line removed, last removed, both; each also without ``*``."""
    lines = response.split("\n")
    cut = ["\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return [response, response.replace("*", ""), *cut, *(r.replace("*", "") for r in cut)]


def warmup() -> None:
    """Import NLTK and load langdetect's profiles once (seconds), in the forkserver before any grader forks."""
    word_tokens("Dr. Smith arrived. He left.")
    detect_language("Le renard brun saute par-dessus le chien.")
    supported_languages()
