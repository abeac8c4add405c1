"""IFEval's conflict table: instructions that cannot be asked together (made symmetric, as Google's
``conflict_make`` does). Google lists every id as conflicting with itself too; we leave that out, since
open-instruct's data repeats an id with other kwargs and each position is checked on its own."""

from __future__ import annotations

from itertools import combinations

_ALL = frozenset({
    "keywords:existence", "keywords:frequency", "keywords:forbidden_words", "keywords:letter_frequency",
    "language:response_language", "length_constraints:number_sentences", "length_constraints:number_paragraphs",
    "length_constraints:number_words", "length_constraints:nth_paragraph_first_word",
    "detectable_content:number_placeholders", "detectable_content:postscript",
    "detectable_format:number_bullet_lists", "detectable_format:constrained_response",
    "detectable_format:number_highlighted_sections", "detectable_format:multiple_sections",
    "detectable_format:json_format", "detectable_format:title", "combination:two_responses",
    "combination:repeat_prompt", "startend:end_checker", "change_case:capital_word_frequency",
    "change_case:english_capital", "change_case:english_lowercase", "punctuation:no_comma", "startend:quotation",
})

_TABLE: dict[str, frozenset[str]] = {
    "language:response_language": frozenset({
        "detectable_format:multiple_sections", "keywords:existence", "keywords:frequency",
        "keywords:forbidden_words", "startend:end_checker", "change_case:english_capital",
        "change_case:english_lowercase"}),
    "length_constraints:number_paragraphs": frozenset({
        "length_constraints:nth_paragraph_first_word", "length_constraints:number_sentences"}),
    "detectable_format:constrained_response": _ALL,
    "detectable_format:multiple_sections": frozenset({"detectable_format:number_highlighted_sections"}),
    "detectable_format:json_format": _ALL - {"keywords:forbidden_words", "keywords:existence"},
    "combination:two_responses": _ALL - {"keywords:forbidden_words", "keywords:existence",
                                         "language:response_language", "detectable_format:title",
                                         "punctuation:no_comma"},
    "combination:repeat_prompt": _ALL - {"keywords:existence", "detectable_format:title", "punctuation:no_comma"},
    "change_case:capital_word_frequency": frozenset({"change_case:english_lowercase",
                                                     "change_case:english_capital"}),
    "change_case:english_lowercase": frozenset({"change_case:english_capital"}),
    "startend:quotation": frozenset({"detectable_format:title"}),
}

CONFLICTS: frozenset[frozenset[str]] = frozenset(
    frozenset({a, b}) for a, others in _TABLE.items() for b in others if a != b)


def first_conflict(ids: list[str]) -> tuple[str, str] | None:
    """The first pair of different ids in ``ids`` that IFEval's table says conflict."""
    for a, b in combinations(dict.fromkeys(ids), 2):
        if frozenset({a, b}) in CONFLICTS:
            return a, b
    return None
