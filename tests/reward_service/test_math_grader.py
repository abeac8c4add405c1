"""The math grader on our own corpus (tests/reward_service/data/math_cases.jsonl) and on its edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reward_service.grading.math import MathOptions, grade_math
from reward_service.schemas import Status

CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "math_cases.jsonl").read_text().splitlines()]


def _param(case: dict) -> object:
    marks = [pytest.mark.xfail(reason=case["xfail_reason"], strict=True)] if "xfail_reason" in case else []
    return pytest.param(case, id=case["note"].replace(" ", "-"), marks=marks)


def test_corpus_is_large_and_balanced():
    expected = [c["expected"] for c in CASES]
    assert len(CASES) >= 150
    assert expected.count(True) >= 60 and expected.count(False) >= 30 and expected.count("invalid") >= 3


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_corpus_case(case):
    verdict = grade_math(case["region"], case["reference"])
    if case["expected"] == "invalid":
        assert verdict.status is Status.invalid and verdict.score is None and verdict.reason
    else:
        assert verdict.status is Status.ok
        assert verdict.score == (1.0 if case["expected"] else 0.0), verdict


def test_tiny_numbers_are_not_chopped_to_equal():
    # math-verify alone says True for both: its numeric check chops tiny differences to zero.
    assert grade_math("\\boxed{\\frac{1}{2^{99}}}", "\\frac{1}{2^{98}}").score == 0.0
    assert grade_math("\\boxed{\\frac{1}{2004!}}", "\\frac{1}{2006!}").score == 0.0


def test_float_answers_keep_the_rounding_option():
    assert grade_math("\\boxed{0.3333333}", "\\frac{1}{3}").score == 1.0
    assert grade_math("\\boxed{0.3333}", "\\frac{1}{3}", MathOptions(float_rounding=3)).score == 1.0
    assert grade_math("\\boxed{0.3333}", "\\frac{1}{3}").score == 0.0


def test_strict_option_decides_whether_variable_names_matter():
    assert grade_math("\\boxed{y+1}", "x+1").score == 0.0
    assert grade_math("\\boxed{y+1}", "x+1", MathOptions(strict=False)).score == 1.0


def test_details_say_what_was_extracted_and_why():
    right = grade_math("so \\boxed{7}", "7")
    assert right.details == {"extracted": "7", "reference": "7", "matched": True} and right.reason is None
    wrong = grade_math("\\boxed{8}", "7")
    assert wrong.reason == "not equivalent" and wrong.details["extracted"] == "8"
    none = grade_math("no idea at all, sorry", "7")
    assert none.score == 0.0 and none.details["matched"] is False


def test_unparseable_reference_is_invalid_not_zero():
    verdict = grade_math("\\boxed{1}", "\\frac{")
    assert verdict.status is Status.invalid and verdict.score is None and "unparseable reference" in verdict.reason
