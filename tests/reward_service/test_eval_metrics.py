"""Eval metrics other teams compare to a tenth of a point: unbiased pass@k against brute force, maj@k over
the grader's answer classes, error bars over prompts; data sets' rows (LiveCodeBench, GSM8K, Minerva) read as
they are shipped, LiveCodeBench's pickled tests without unpickling anything but plain data."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import pickle
import statistics
import subprocess
import sys
import zlib

import pytest

from reward_service import recipes
from reward_service.engine import GradingEngine
from reward_service.eval_metrics import Sample, majority, pass_at_k, summary
from reward_service.eval_rows import RowError, normalize, private_tests
from reward_service.eval_summary import answer_classes
from reward_service.evaluate import group
from reward_service.schemas import ScoreItem
from reward_service.settings import Settings
from tests.conftest import ROOT


def test_pass_at_k_is_the_share_of_k_subsets_holding_a_right_sample():
    for n in range(1, 7):
        for c in range(n + 1):
            for k in range(1, n + 1):
                subsets = list(itertools.combinations([True] * c + [False] * (n - c), k))
                assert pass_at_k(n, c, k) == pytest.approx(sum(any(s) for s in subsets) / len(subsets))


def test_pass_at_k_past_the_samples_is_refused_not_one():
    # human-eval's shortcut (n - c < k: 1.0) says 1.0 for k > n even when no sample is right
    with pytest.raises(ValueError, match="0 < k <= n"):
        pass_at_k(2, 0, 4)


def s(vote, right: bool, reward: float | None = None) -> Sample:
    return Sample(float(right) if reward is None else reward, right, vote is None, vote)


def test_majority_counts_classes_breaks_ties_by_first_appearance_and_skips_no_answers():
    group_ = [s("a", False), s(None, False), s("b", True), s("b", True), s("a", False)]
    assert not majority(group_, 1)                  # a alone
    assert not majority(group_, 3)                  # a 1, b 1: a came first
    assert majority(group_, 4)                      # b 2, a 1
    assert not majority(group_, 5)                  # a 2, b 2: a first
    assert not majority([s(None, False)] * 3, 3)    # nobody answered


def test_summary_weighs_prompts_equally_and_gives_the_standard_error_over_prompts():
    groups = [[s(0, True), s(0, True), s(1, False), s(0, True)],   # mean 0.75
              [s(0, False), s(1, True)],                          # mean 0.5
              [s(0, False), s(0, False), s(0, False)]]           # mean 0
    out = summary(groups)
    means = [0.75, 0.5, 0.0]
    assert out["mean"] == pytest.approx(statistics.fmean(means))  # not 5/9, the mean over samples
    assert out["stderr"] == pytest.approx(statistics.stdev(means) / math.sqrt(3))
    assert (out["prompts"], out["samples"]) == (3, 9)
    assert out["pass@2"] == pytest.approx((1.0 + 1.0 + 0.0) / 3)
    assert "pass@4" not in out and "maj@4" not in out           # the smallest group has 2
    assert out["maj@2"] == pytest.approx((1 + 0 + 0) / 3)         # prompt 2: a tie, its first class is wrong


@pytest.fixture(scope="module")
def engine():
    """An in-process engine, as the eval CLI grades without --url, and its loop."""
    loop = asyncio.new_event_loop()
    graded = GradingEngine(Settings(workers=1))
    loop.run_until_complete(graded.start())
    yield loop, graded
    loop.run_until_complete(graded.aclose())
    loop.close()


def classes(engine, completions: list[str], answer: str = "0.5", task: str = "math") -> list:
    loop, graded = engine
    accuracy = recipes.resolve("accuracy", "accuracy")
    items = [ScoreItem(completion=c, answer=answer) for c in completions]
    rows = [{"task": task, "result": r.model_dump(mode="json")}
            for r in loop.run_until_complete(graded.score(items, accuracy))]
    return loop.run_until_complete(answer_classes(rows, [list(range(len(rows)))],
                                                  lambda batch: graded.score(batch, accuracy)))


def test_answers_the_grader_finds_equal_are_one_class(engine):
    votes = classes(engine, ["\\boxed{\\frac12}", "\\boxed{3}", "The answer is 0.5", "\\boxed{1/2}", "no idea",
                            "\\boxed{\\dfrac{1}{2}}", "\\boxed{3.0}", "\\boxed{\\sqrt{9}}", "\\boxed{7}"])
    assert votes == [0, 1, 0, 0, None, 0, 1, 1, 2]


def test_a_wrong_class_can_win_the_vote_and_the_answer_classes_are_in_the_output(tmp_path):
    rows = [{"prompt_id": "p", "completion": c, "answer": "2", "level": 5}
            for c in ("\\boxed{2}", "\\boxed{3}", "\\boxed{3.0}", "\\boxed{\\frac{6}{2}}")]
    rows += [{"prompt_id": "q", "completion": "\\boxed{4}", "answer": "4"}] * 4  # no level: under null
    src, summary_path = tmp_path / "in.jsonl", tmp_path / "summary.json"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = subprocess.run([sys.executable, "-m", "reward_service", "eval", str(src), "--workers", "1", "--by", "level",
                          "--summary-json", str(summary_path)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    out = json.loads(summary_path.read_text())
    assert out["overall"]["pass@4"] == 1.0 and out["overall"]["maj@4"] == 0.5  # p: 3 votes for 3, 1 for 2
    assert out["overall"]["maj@2"] == 1.0                                     # p: a tie, 2 came first
    assert set(out["by_level"]) == {"5", "null"} and out["by_level"]["null"]["prompts"] == 1
    assert out["by_task"]["math"]["stderr"] == pytest.approx(statistics.stdev([0.25, 1.0]) / math.sqrt(2))
    graded = [json.loads(line) for line in (tmp_path / "in.graded.jsonl").read_text().splitlines()]
    assert [r["answer_class"] for r in graded] == [0, 1, 1, 1, 0, 0, 0, 0]
    assert "±" in run.stdout and "maj@4" in run.stdout


# -- data sets' rows ---------------------------------------------------------------------------------------

def packed(value) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(value))).decode()


def livecodebench(private, **more) -> dict:
    return {"question_id": "abc301_a", "question_title": "t", "question_content": "...", "platform": "atcoder",
            "public_test_cases": json.dumps([{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]),
            "private_test_cases": private, "metadata": "{}", "starter_code": "", "difficulty": "easy", **more}


def test_livecodebench_private_tests_unpack_to_plain_data():
    cases = [{"input": "5 7\n", "output": "12\n", "testtype": "stdin"}]
    item = normalize(livecodebench(packed(json.dumps(cases)), completion="x"))
    assert item["task"] == "code" and item["prompt_id"] == "abc301_a"
    assert item["tests"] == {"inputs": ["1 2\n", "5 7\n"], "outputs": ["3\n", "12\n"]}
    assert private_tests(json.dumps(cases)) == cases  # early releases: plain JSON


class _Exploit:
    def __reduce__(self):
        return (__import__("os").system, ("touch /tmp/pwned-by-a-test-set",))


def test_a_pickle_that_names_any_callable_is_refused_before_it_runs(tmp_path):
    marker = __import__("pathlib").Path("/tmp/pwned-by-a-test-set")
    marker.unlink(missing_ok=True)
    with pytest.raises(RowError, match="only plain data is loaded"):
        private_tests(packed([_Exploit()]))
    assert not marker.exists()


def test_a_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr("reward_service.eval_rows.MAX_TESTS_BYTES", 1 << 16)
    with pytest.raises(RowError, match="more than"):
        private_tests(packed("x" * (1 << 20)))


@pytest.mark.parametrize("row, reason", [
    (livecodebench("not base64!"), "not base64 of zlib"),
    (livecodebench("", public_test_cases="[{\"input\": 1}]"), "list of {input, output"),
    (livecodebench("", public_test_cases=json.dumps([{"input": "1", "output": "2", "testtype": "functional"}])),
     "without metadata.func_name"),
])
def test_a_livecodebench_row_that_cannot_be_read_says_why(row, reason):
    with pytest.raises(RowError, match=reason):
        normalize({**row, "completion": "x"})


def test_gsm8k_and_minerva_rows_read_their_final_answers():
    gsm = normalize({"question": "q", "answer": "She makes 9 * 2 = $<<9*2=18>>18.\n#### 1,018", "completion": "x"})
    assert gsm["answer"] == "1018"
    minerva = normalize({"problem": "p", "solution": "so $\\boxed{2}$ then \\boxed{\\frac{a}{b}}.", "completion": "x"})
    assert minerva["answer"] == "\\frac{a}{b}"
    math500 = {"problem": "p", "answer": "\\left( 3, \\frac{\\pi}{2} \\right)", "completion": "x"}
    assert normalize(math500) == math500


@pytest.mark.parametrize("backend", ["bwrap"])
def test_livecodebench_rows_are_graded_and_grouped_by_question(tmp_path, backend, monkeypatch):
    monkeypatch.setenv("REWARD_SANDBOX_BACKEND", backend)
    functional = livecodebench(
        packed(json.dumps([{"input": "[3, 4]\n5", "output": "[0, 1]", "testtype": "functional"}])),
        question_id="lc1", metadata=json.dumps({"func_name": "pick"}),
        public_test_cases=json.dumps([{"input": "[1, 2]\n3", "output": "[0, 1]", "testtype": "functional"}]))
    right = "```python\nclass Solution:\n    def pick(self, nums, target):\n        return [0, 1]\n```"
    wrong = "```python\nclass Solution:\n    def pick(self, nums, target):\n        return [1, 0]\n```"
    stdin_right = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    rows = [{**functional, "completion": right}, {**functional, "completion": wrong},
            {**livecodebench(packed(json.dumps([]))), "completion": stdin_right},
            {**livecodebench(packed(json.dumps([]))), "completion": stdin_right}]
    src = tmp_path / "lcb.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = subprocess.run([sys.executable, "-m", "reward_service", "eval", str(src), "--workers", "1"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    graded = [json.loads(line) for line in (tmp_path / "lcb.graded.jsonl").read_text().splitlines()]
    assert [r["result"]["reward"] for r in graded] == [1.0, 0.0, 1.0, 1.0]
    assert len(group(graded)) == 2 and "private_test_cases" in graded[0]  # the row rides along as it came


def test_the_python_api_gives_the_clis_numbers(tmp_path, service):
    from reward_service.evaluate import evaluate
    rows = [{"prompt_id": p, "completion": f"\\boxed{{{c}}}", "answer": "2", "subject": s}
            for p, s, cs in (("a", "algebra", ("2", "2.0", "3", "5")), ("b", None, ("1", "4/2", "\\frac{4}{2}", "2")))
            for c in cs]
    rows.append({"answer": "2"})  # no completion: invalid, and out of the summary
    src, summary_path = tmp_path / "in.jsonl", tmp_path / "summary.json"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = subprocess.run([sys.executable, "-m", "reward_service", "eval", str(src), "--url", service.url,
                          "--by", "subject", "--summary-json", str(summary_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    graded, numbers = evaluate(rows, url=service.url, by=("subject",))
    cli = json.loads(summary_path.read_text())
    cli.pop("settings")
    assert numbers == cli and numbers["overall"]["maj@4"] == 1.0 and numbers["by_subject"]["null"]["maj@1"] == 0.0
    assert graded[-1]["result"]["status"] == "invalid" and [r["answer_class"] for r in graded[4:8]] == [0, 1, 1, 1]
