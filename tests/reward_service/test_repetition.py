"""The n-gram repetition penalty: open-r1's definition, CJK counted by character, scoped by recipe option."""

from __future__ import annotations

import pytest

from reward_service.grading.repetition import repetition_penalty, tokens
from reward_service.recipes import resolve
from reward_service.schemas import ScoreItem
from reward_service.scoring import score_item


def open_r1(text: str, ngram: int = 3, max_penalty: float = -1.0) -> float:
    """open-r1's repetition_penalty_reward, restated for a space-separated text (the reference to agree with)."""
    words = text.lower().split()
    if len(words) < ngram:
        return 0.0
    grams = list(zip(*[words[i:] for i in range(ngram)], strict=False))
    return (1 - len(set(grams)) / len(grams)) * max_penalty


@pytest.mark.parametrize("text", [
    "the cat sat on the mat", "wait let me check wait let me check wait let me check",
    "So So so so so so", "a b", "", "one two three one two three one two four five six",
])
@pytest.mark.parametrize(("ngram", "penalty"), [(3, -1.0), (2, -0.5), (4, -2.0)])
def test_agrees_with_open_r1_on_spaced_text(text, ngram, penalty):
    assert repetition_penalty(text, ngram, penalty).score == pytest.approx(open_r1(text, ngram, penalty))


def test_chinese_and_japanese_count_by_character():
    assert tokens("首先计算 the sum") == ["首", "先", "计", "算", "the", "sum"]
    assert tokens("まず計算します") == list("まず計算します")
    looping = "首先计算" * 8
    assert repetition_penalty(looping).score < -0.8  # one "word" for open-r1's split: never penalised
    assert open_r1(looping) == 0.0
    assert repetition_penalty("首先，我仔细阅读题目。然后把两个数相加。").score == 0.0


def test_no_repetition_is_zero_not_minus_zero():
    verdict = repetition_penalty("every word here is new")
    assert verdict.score == 0.0 and str(verdict.score) == "0.0"


def test_a_recipe_component_scoped_to_the_reasoning_or_the_completion():
    looping = "<think>wait let me check wait let me check wait let me check</think> <answer>\\boxed{4}</answer>"
    item = ScoreItem(completion=looping, answer="4")
    whole = resolve({"components": {"accuracy": {}, "repetition": {}}}, "")
    reasoning = resolve({"components": {"repetition": {"options": {"scope": "reasoning", "ngram": 2}}}}, "")
    result, _ = score_item(item, whole)
    assert result.components["accuracy"] == 1.0 and -1.0 < result.components["repetition"] < -0.3
    assert result.details["repetition"] == {"ngrams": 11, "distinct": 7}  # 13 tokens, tags glued to words
    result, _ = score_item(item, reasoning)
    assert result.components["repetition"] == pytest.approx(-(1 - 4 / 11))  # 11 bigrams of the thought, 4 distinct


@pytest.mark.parametrize("options", [{"max_penalty": 0.5}, {"ngram": 0}, {"scope": "answer"}, {"ngrams": 3}])
def test_bad_options_are_refused(options):
    from reward_service.errors import UnknownRecipe
    with pytest.raises(UnknownRecipe):
        resolve({"components": {"repetition": {"options": options}}}, "")
