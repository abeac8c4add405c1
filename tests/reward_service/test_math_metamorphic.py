"""Metamorphic test: every answer of the corpus, written in each form a model writes, gets one verdict.

A grader whose verdict depends on whether the answer was boxed, put in dollars, written bare, stated in a
sentence or left at the end of an untagged chain of thought teaches a policy to game the form. Each
``answer`` case of tests/reward_service/data/math_cases.jsonl is wrapped in every form below, graded through
the same path as ``/score`` (``scoring.score_item``, recipe ``accuracy``), and must get the case's verdict in
all of them. The wrappers hold distractor numbers and math in the reasoning and around the answer.
"""

from __future__ import annotations

import json
from multiprocessing import get_context
from pathlib import Path

import pytest

from reward_service.recipes import resolve
from reward_service.schemas import ScoreItem
from reward_service.scoring import score_item

DATA = Path(__file__).parent / "data"
CASES = [c for c in (json.loads(line) for line in (DATA / "math_cases.jsonl").read_text().splitlines() if line)
         if "answer" in c]
THINK = "<think>Try 12 + 7 = 19 first, then check $x = 3$ and \\(y = 4\\); maybe \\boxed{99}?</think>"

# name -> (completion template, the answer going where @X@ is; prompt or None)
FORMS: dict[str, tuple[str, str | None]] = {
    "boxed_in_answer": (THINK + " <answer>\\boxed{@X@}</answer>", None),
    "dollars_in_answer": (THINK + " <answer>$@X@$</answer>", None),
    "bare_in_answer": (THINK + "\n<answer>\n@X@\n</answer>", None),
    "final_answer_sentence": (THINK + "\n\nThe final answer is $@X@$.", None),
    "display_after_think": (THINK + "\nPutting the two cases together, with $n = 2$:\n\\[\n@X@\n\\]", None),
    "untagged_cot_boxed": ("First, 3 + 4 = 7 and $2^3 = 8$. Checking the case $n = 1$ gives 11.\n"
                           "So the answer is $\\boxed{@X@}$.", None),
    "r1_free_text": (THINK + "\n\nWe have $a + b = 10$ and $c = 2$, which gives 42 in total.\n\n"
                     "**Answer:** $@X@$", None),
    "prefilled_think": ("Let me try 5 and 6, maybe $7$ works.\n</think>\n\nThe result is \\(@X@\\)",
                        "Solve the problem. Assistant: <think>"),
}


def _verdict(args: tuple[str, str, str | None]) -> object:
    completion, reference, prompt = args
    item = ScoreItem(completion=completion, answer=reference, prompt=prompt)
    result, _ = score_item(item, resolve("accuracy", "accuracy"))
    if result.status.value != "ok":
        return result.status.value
    return result.components["accuracy"] == 1.0


def _expected(case: dict) -> object:
    return case["expected"]


@pytest.fixture(scope="module")
def verdicts() -> dict[tuple[str, str], object]:
    """Every (case note, form name) graded once, on two processes (the whole corpus in ~20 s)."""
    jobs = [((c["note"], name), (template.replace("@X@", c["answer"]), c["reference"], prompt))
            for c in CASES for name, (template, prompt) in FORMS.items()]
    with get_context("fork").Pool(2) as pool:
        out = pool.map(_verdict, [j[1] for j in jobs], chunksize=16)
    return {key: v for (key, _), v in zip(jobs, out, strict=True)}


def test_forms_really_differ():
    rendered = {t.replace("@X@", "7") for t, _ in FORMS.values()}
    assert len(rendered) == len(FORMS) >= 8
    assert {p for _, p in FORMS.values()} >= {None} and any(p for _, p in FORMS.values())


def test_corpus_has_enough_answers_to_vary():
    assert len(CASES) >= 300


@pytest.mark.parametrize("case", [pytest.param(c, id=c["note"].replace(" ", "-"),
                                               marks=[pytest.mark.xfail(reason=c["xfail_reason"], strict=True)]
                                               if "xfail_reason" in c else [])
                                  for c in CASES])
def test_every_form_gets_the_same_verdict(case, verdicts):
    got = {name: verdicts[case["note"], name] for name in FORMS}
    wrong = {name: v for name, v in got.items() if v != _expected(case)}
    assert not wrong, f"expected {case['expected']!r} in every form; got {wrong}"
