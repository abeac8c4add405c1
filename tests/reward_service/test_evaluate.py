"""The eval CLI on a small JSONL file, graded in-process and against the running service."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from reward_service.eval_metrics import pass_at_k
from reward_service.eval_summary import summarize
from reward_service.evaluate import GROUP_BY, group, parse_line, pass_note
from tests.conftest import ROOT

ROWS = [
    {"prompt_id": "p1", "completion": "\\boxed{2}", "answer": "2", "source": "toy"},
    {"prompt_id": "p1", "completion": "\\boxed{3}", "answer": "2", "source": "toy"},
    {"prompt_id": "p2", "completion": "\\boxed{5}", "answer": "4", "source": "toy"},
    {"prompt_id": "p2", "completion": "\\boxed{4}", "answer": "4", "source": "other", "extra": "kept"},
]


def summary_of(rows: list[dict], group_by: str = GROUP_BY, by: tuple[str, ...] = ()) -> dict:
    """The summary, each sample voting with its correctness (a class per verdict)."""
    votes = [r["result"]["reward"] for r in rows]
    return summarize(rows, votes, group(rows, group_by), by)


def test_pass_at_k_matches_the_unbiased_estimator():
    assert pass_at_k(4, 0, 2) == 0.0
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)
    assert pass_at_k(4, 3, 2) == 1.0


def test_summary_groups_by_task_and_source():
    rows = [{**r, "task": "math", "result": {"status": "ok", "reward": float(i in (0, 3)),
                                             "components": {"accuracy": float(i in (0, 3))}}}
            for i, r in enumerate(ROWS)]
    table = summary_of(rows)
    assert table["by_task"]["math"]["accuracy"] == 0.5 and table["by_task"]["math"]["pass@2"] == 1.0
    assert table["by_source"]["toy"]["samples"] == 3


@pytest.mark.parametrize("against_service", [False, True])
def test_eval_cli_writes_results_and_survives_bad_lines(tmp_path, service, against_service):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([*map(json.dumps, ROWS), "{not json", json.dumps({"answer": "1"}),
                              json.dumps({"completion": "\\boxed{1}", "anwser": "1"})]) + "\n")
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "reward_service", "eval", str(src), "-o", str(out), "--workers", "1"]
    if against_service:
        cmd += ["--url", service.url]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["result"]["reward"] for r in rows[:4]] == [1.0, 0.0, 0.0, 1.0]
    assert rows[3]["extra"] == "kept"
    assert rows[4]["result"]["status"] == "invalid" and "bad JSON" in rows[4]["result"]["error"]
    assert rows[5]["result"]["status"] == "invalid" and "completion" in rows[5]["result"]["error"]
    assert rows[6]["result"]["status"] == "invalid"  # a typo of ours is refused as /score refuses it
    assert rows[6]["result"]["error"].startswith("unknown field 'anwser': did you mean 'answer'?")
    assert "pass@2" in run.stdout and "maj@2" in run.stdout and "accuracy" in run.stdout
    assert [r.get("answer_class") for r in rows] == [0, 1, 0, 1, None, None, None]  # 2, 3 | 5, 4


def test_summary_has_an_overall_row_and_counts_invalid_lines_apart(tmp_path, service):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([*map(json.dumps, ROWS), json.dumps({**ROWS[0], "task": "mathz"}), "{oops"]) + "\n")
    run = subprocess.run([sys.executable, "-m", "reward_service", "eval", str(src), "--url", service.url],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    table = [line.split() for line in run.stdout.splitlines()]
    assert table[1][:6] == ["all", "-", "4", "4", "2", "0.500"]  # the overall row first: 4 items, all scored
    assert not any(row and row[0] == "task" and row[1] == "mathz" for row in table)  # not a task: invalid
    assert "; 2 invalid lines" in run.stdout


@pytest.mark.parametrize(("setup", "args", "message"), [
    ("missing", [], "no such file"),
    ("empty", [], "is empty: nothing to grade"),
    ("ok", ["--url", "127.0.0.1:9"], "has no scheme: write http://127.0.0.1:9"),
    ("ok", ["--url", "http://127.0.0.1:9"], "reward service at http://127.0.0.1:9 is not reachable"),
    ("ok", ["--recipe", "r1-zer0"], "--recipe: unknown recipe 'r1-zer0'"),
    ("ok", ["--group-by", "unique_idd"], "--group-by unique_idd: no line of"),
])
def test_mistakes_are_one_line_and_a_nonzero_exit(tmp_path, setup, args, message):
    src = tmp_path / "in.jsonl"
    if setup != "missing":
        src.write_text("" if setup == "empty" else json.dumps(ROWS[0]) + "\n")
    run = subprocess.run([sys.executable, "-m", "reward_service", "eval", str(src), *args],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 2
    assert run.stderr.startswith("error: ") and message in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_a_typo_of_a_field_gets_the_apis_did_you_mean(service):
    row = {"completion": "\\boxed{4}", "anwser": "4", "unique_id": "test/x.json"}
    _, item, error = parse_line(json.dumps(row))
    api = httpx.post(service.url + "/score", json={"items": [row]}, timeout=30)
    assert item is None and api.status_code == 422
    assert error == api.json()["detail"][0]["msg"].removeprefix("Value error, ")
    assert "did you mean 'answer'?" in error


# -- pass@k groups: prompt_id, else --group-by FIELD, else the prompt text; alone, no pass@k ---------------

def math500(unique_id: str, correct: bool, **more: object) -> dict:
    """A MATH-500 row (its own fields: problem, solution, answer, subject, level, unique_id) with a sample."""
    return {"problem": f"Problem {unique_id}", "solution": "... so $\\boxed{4}$.", "answer": "4",
            "subject": "Algebra", "level": 2, "unique_id": unique_id,
            "completion": "\\boxed{4}" if correct else "\\boxed{5}", **more}


def graded(rows: list[dict]) -> list[dict]:
    ok = {"status": "ok"}
    return [{**r, "result": {**ok, "reward": float(c), "components": {"accuracy": float(c)}}}
            for r in rows for c in [r["completion"] == "\\boxed{4}"]]


MATH500 = graded([math500("test/algebra/1.json", True), math500("test/algebra/1.json", False),
                  math500("test/algebra/2.json", False), math500("test/algebra/2.json", False)])


def overall(rows: list[dict], group_by: str = GROUP_BY) -> dict:
    return summary_of(rows, group_by)["overall"]


def test_math500_rows_group_by_their_problem_text():
    line = overall(MATH500)
    assert (line["pass@1"], line["pass@2"], line["prompts"]) == (0.25, 0.5, 2) and pass_note(MATH500) is None


def test_without_a_group_field_there_is_no_pass_at_k_and_the_note_says_why():
    bare = [{k: v for k, v in r.items() if k != "problem"} for r in MATH500]  # nothing of a prompt's
    line = overall(bare)  # one sample a prompt: pass@1 (the mean) and no k above, without error
    assert [c for c in line if c.startswith(("pass@", "maj@"))] == ["pass@1", "maj@1"] and line["prompts"] == 4
    note = pass_note(bare)
    assert note is not None and "each is a group of its own" in note and "--group-by unique_id" in note


def test_group_by_names_the_field():
    line = overall([{k: v for k, v in r.items() if k != "problem"} for r in MATH500], group_by="unique_id")
    assert (line["pass@1"], line["pass@2"]) == (0.25, 0.5) and "pass@4" not in line
    assert pass_note(MATH500, "unique_id") is None


@pytest.mark.parametrize("prompt", ["What is 2+2?", [{"role": "user", "content": "What is 2+2?"}]])
def test_without_prompt_id_samples_of_one_prompt_text_are_a_group(prompt):
    rows = graded([math500(str(i), i == 0, prompt=prompt) for i in range(2)])  # unique_id differs: not used
    assert overall(rows)["pass@2"] == 1.0


def test_prompt_id_groups_before_the_prompt_text():
    rows = graded([math500("a", True, prompt_id="p1", prompt="same"), math500("b", False, prompt_id="p1", prompt="same"),
                   math500("c", False, prompt_id="p2", prompt="same"), math500("d", False, prompt_id="p2", prompt="same")])
    line = overall(rows)
    assert line["pass@2"] == 0.5 and "pass@4" not in line  # by the prompt text: one group of 4


def test_a_group_of_one_leaves_pass_at_k_out_and_says_so():
    rows = [*MATH500, *graded([math500("test/algebra/3.json", True)])]
    assert "pass@2" not in overall(rows, group_by="unique_id")
    assert "1 of 3 groups have a single scored sample" in (pass_note(rows, "unique_id") or "")
    assert "pass@1" in overall(rows, group_by="unique_id")  # and k = 1 still has its estimate


def test_eval_cli_on_math500_rows(tmp_path):
    src = tmp_path / "math500.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in [math500("t/1", False), math500("t/1", True),
                                                             math500("t/2", True), math500("t/2", True)]))
    run = [sys.executable, "-m", "reward_service", "eval", str(src), "--workers", "1"]
    for extra in ([], ["--group-by", "unique_id"]):  # the problem's text groups, as its id does
        grouped = subprocess.run([*run, *extra], capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert grouped.returncode == 0, grouped.stderr
        header, everything = (line.split() for line in grouped.stdout.splitlines()[:2])
        numbers = dict(zip(header, everything, strict=True))
        assert (numbers["pass@1"], numbers["pass@2"], numbers["maj@1"], numbers["maj@2"]) == (
            "0.750", "1.000", "0.500", "0.500")  # t/1: wrong then right, a tie: the first class wins
