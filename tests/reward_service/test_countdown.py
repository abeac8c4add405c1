import json

import pytest

from reward_service.grading.countdown import grade_countdown
from reward_service.grading.types import Status
from reward_service.recipes import resolve
from reward_service.schemas import ScoreItem
from reward_service.scoring import score_item

REF = json.dumps({"target": 24, "numbers": [3, 5, 7, 2]})


@pytest.mark.parametrize("region", [
    "3 * 5 + 7 + 2",
    "7 * 3 + 5 - 2",
    " 3*5+7+2 ",
    "3 × 5 + 7 + 2",
    "$3 * 5 + 7 + 2$",
    "3 * 5 + 7 + 2 = 24",
    "24 = 3 * 5 + 7 + 2",
    "(3 * 5) + (7 + 2).",
])
def test_correct_equations_score_one(region):
    verdict = grade_countdown(region, REF)
    assert verdict.status is Status.ok
    assert verdict.score == 1.0, verdict.reason


def test_exact_fractions_hit_the_target():
    ref = json.dumps({"target": 24, "numbers": [1, 3, 4, 6]})
    assert grade_countdown("6 / (1 - 3 / 4)", ref).score == 1.0


@pytest.mark.parametrize(("region", "reason"), [
    ("3 * 5 + 7", "numbers used [3, 5, 7] but given [2, 3, 5, 7]"),            # a number unused
    ("3 * 5 + 7 + 2 + 2", "each exactly once"),                                # a number twice
    ("3 * 5 + 7 + 1 + 1", "each exactly once"),                                # numbers not given
    ("3 * 5 + 7 - 2", "equation gives 20, not the target 24"),
    ("3 * 5 + 7 + 2 = 25", "target alone on one side"),
    ("3 * 5 + 7 + 2 = 1e999999999", "target alone on one side"),              # no huge number is built
    ("3 * 5 + 7 + 2 = 24 = 24", "target alone on one side"),
    ("-3 + 5 * 7 - 2 * 4", "unary"),
    ("3 ** 5 + 7 + 2", "not allowed"),
    ("3.0 * 5 + 7 + 2", "only integers"),
    ("3 * 5 + 7 + 2 / 0", "division by zero"),
    ("__import__('os').system('true')", "not allowed"),
    ("(lambda: 24)()", "not allowed"),
    ("three times five", "not an arithmetic expression"),
    ("", "empty answer"),
    ("(" * 200 + "3" + ")" * 200, "longer than"),
])
def test_wrong_or_unsafe_answers_score_zero_with_a_reason(region, reason):
    verdict = grade_countdown(region, REF)
    assert verdict.status is Status.ok
    assert verdict.score == 0.0
    assert reason in (verdict.reason or "")


@pytest.mark.parametrize("reference", [
    "not json", "[]", '{"target": 24}', '{"target": "x", "numbers": [1]}', '{"target": 24, "numbers": []}',
    '{"target": 24, "numbers": [1.5, 2]}', '{"target": true, "numbers": [1]}',
])
def test_malformed_reference_is_invalid(reference):
    verdict = grade_countdown("1 + 2", reference)
    assert verdict.status is Status.invalid
    assert verdict.score is None


def test_deep_nesting_is_rejected_not_crashing():
    ref = json.dumps({"target": 1, "numbers": [1]})
    assert grade_countdown("(" * 100 + "1" + ")" * 100, ref).score == 1.0
    assert grade_countdown("1" + "+1" * 149, ref).score == 0.0


def test_countdown_items_score_through_the_pipeline():
    recipe = resolve("r1-zero", "r1-zero")
    good = ScoreItem(task="countdown", answer=REF,
                     completion="<think> 3*5 is 15, plus 9 </think> <answer> 3 * 5 + 7 + 2 </answer>")
    bad = good.model_copy(update={"completion": "<think> hmm </think> <answer> 3 * 5 + 7 </answer>"})
    assert score_item(good, recipe)[0].components == {"accuracy": 1.0, "format": 1.0}
    assert score_item(bad, recipe)[0].components == {"accuracy": 0.0, "format": 1.0}


def test_the_reference_may_be_the_object_itself_or_its_json_text():
    recipe = resolve("accuracy", "")
    completion = "<think> 3*5 is 15 </think> <answer> 3 * 5 + 7 + 2 </answer>"
    as_object = ScoreItem.model_validate({"task": "countdown", "answer": json.loads(REF), "completion": completion})
    as_text = ScoreItem.model_validate({"task": "countdown", "answer": REF, "completion": completion})
    assert json.loads(as_object.answer or "") == json.loads(REF)
    assert score_item(as_object, recipe)[0].reward == score_item(as_text, recipe)[0].reward == 1.0
