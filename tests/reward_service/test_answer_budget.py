"""A slow answer is a 0, not a null: past its time budget the answer's evaluation is killed and its verdict is
the one the grader gave for that case (status ok); only a reference we cannot evaluate makes a timeout. Real
grader processes throughout."""

from __future__ import annotations

import shutil

import pytest

from reward_service import recipes
from reward_service.engine import GradingEngine
from reward_service.grading import budget
from reward_service.pool import JobTimeout, OverBudget, ProcessPool
from reward_service.probe import CATALOGUE, run_probe
from reward_service.schemas import ScoreItem
from reward_service.settings import Settings

JOBS = "tests.reward_service._pool_jobs"
SLOW = "\\sum_{k=1}^{10^8} k^k"  # parses at once; evaluating it takes sympy hours
LIMIT, BUDGET = 4.0, 0.5


@pytest.fixture(scope="module")
def pool():
    p = ProcessPool(1)
    yield p
    p.close()


def test_past_its_budget_a_job_answers_its_fallback(pool):
    replaced = pool.replaced
    with pytest.raises(OverBudget) as caught:
        pool.run(f"{JOBS}.answer_phase_then_spin", (60,), timeout=30, budget=BUDGET)
    assert caught.value.fallback["score"] == 0.0 and caught.value.fallback["reason"] == "over its 0.5 s budget"
    assert pool.replaced == replaced + 1  # killed, not left to run
    assert pool.run(f"{JOBS}.echo", ("next",), timeout=30) == "next"


def test_the_budget_is_cpu_time_so_a_starved_grader_is_never_a_zero(pool):
    # Asleep (or waiting for a CPU on a loaded machine) the answer spends none of its budget: past the item's
    # limit that is a timeout, as before, never a 0 the answer did not earn.
    with pytest.raises(JobTimeout):
        pool.run(f"{JOBS}.answer_phase_then_sleep", (0, 60), timeout=2, budget=BUDGET)


def test_time_before_the_answer_phase_or_without_a_budget_is_a_timeout(pool):
    with pytest.raises(JobTimeout):  # killed before it said where the answer's time starts
        pool.run(f"{JOBS}.answer_phase_then_sleep", (60, 0), timeout=1, budget=BUDGET)
    with pytest.raises(JobTimeout):  # no budget given: the item's limit alone
        pool.run(f"{JOBS}.answer_phase_then_sleep", (0, 60), timeout=1)
    assert pool.run(f"{JOBS}.answer_phase_then_sleep", (0, 0), timeout=30, budget=BUDGET) == "finished"


def test_outside_a_pool_the_hook_does_nothing():
    budget.answer_phase(lambda seconds: pytest.fail("no budget applies outside a grader pool"))


def item(answer: str, reference: str, id_: int | str) -> ScoreItem:
    return ScoreItem(id=id_, completion=f"<think>x</think> <answer>\\boxed{{{answer}}}</answer>", answer=reference)


async def test_a_slow_answer_is_a_zero_and_its_group_pays_once():
    engine = GradingEngine(Settings(workers=1, item_timeout_s=LIMIT, answer_budget_s=BUDGET,
                                    sandbox_backend="none"))
    await engine.start()
    try:
        group = [item(SLOW, "4", i) for i in range(4)] + [item("4", "4", "right")]
        results = await engine.score(group, recipes.resolve("accuracy", ""))
        for result in results[:4]:  # a timeout would say "exceeded 4 s"; the budget ended it well before
            assert (result.status, result.reward) == ("ok", 0.0), result
            assert result.details["accuracy"]["reason"] == "answer not evaluated within its 0.5 s budget"
        assert results[4].reward == 1.0
        assert engine.stats()["workers_replaced"] == 1  # one grader killed for the whole group
        again = await engine.score([item(SLOW, "4", "later")], recipes.resolve("r1-zero", ""))
        assert (again[0].status, again[0].components) == ("ok", {"format": 1.0, "accuracy": 0.0})
        assert engine.stats()["workers_replaced"] == 1  # its verdict is cached like any other
    finally:
        await engine.aclose()


async def test_a_reference_we_cannot_evaluate_is_still_a_timeout():
    engine = GradingEngine(Settings(workers=1, item_timeout_s=LIMIT, answer_budget_s=BUDGET,
                                    sandbox_backend="none"))
    await engine.start()
    try:
        [result] = await engine.score([item("4", SLOW, "bad-reference")], recipes.resolve("accuracy", ""))
        assert result.status == "timeout" and result.reward is None and "exceeded 4 s" in (result.error or "")
    finally:
        await engine.aclose()


def test_the_probe_finds_no_leak_in_a_slow_answer(tmp_path, capsys):
    shutil.copy(CATALOGUE / "math-slow-to-evaluate.json", tmp_path)
    code = run_probe(["accuracy"], url=None, api_key=None, exploits_dir=str(tmp_path),
                     settings=Settings(workers=1, item_timeout_s=LIMIT, answer_budget_s=BUDGET))
    out = capsys.readouterr().out
    assert code == 0 and "math-slow-to-evaluate" in out and "PASS" in out, out
