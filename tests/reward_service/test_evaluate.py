"""The eval CLI on a small JSONL file, graded in-process and against the running service."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reward_service.evaluate import pass_at_k, summarize
from tests.conftest import ROOT

ROWS = [
    {"prompt_id": "p1", "completion": "\\boxed{2}", "answer": "2", "source": "toy"},
    {"prompt_id": "p1", "completion": "\\boxed{3}", "answer": "2", "source": "toy"},
    {"prompt_id": "p2", "completion": "\\boxed{5}", "answer": "4", "source": "toy"},
    {"prompt_id": "p2", "completion": "\\boxed{4}", "answer": "4", "source": "other", "extra": "kept"},
]


def test_pass_at_k_matches_the_unbiased_estimator():
    assert pass_at_k(4, 0, 2) == 0.0
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)
    assert pass_at_k(4, 3, 2) == 1.0


def test_summary_groups_by_task_and_source():
    rows = [{**r, "result": {"status": "ok", "reward": float(i in (0, 3)), "components": {"accuracy": float(i in (0, 3))}}}
            for i, r in enumerate(ROWS)]
    table = {(r["by"], r["name"]): r for r in summarize(rows)}
    assert table[("task", "math")]["accuracy"] == 0.5 and table[("task", "math")]["pass@2"] == 1.0
    assert table[("source", "toy")]["n"] == 3


@pytest.mark.parametrize("against_service", [False, True])
def test_eval_cli_writes_results_and_survives_bad_lines(tmp_path, service, against_service):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([*map(json.dumps, ROWS), "{not json", json.dumps({"answer": "1"})]) + "\n")
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
    assert "pass@2" in run.stdout and "accuracy" in run.stdout


def test_summary_has_an_overall_row_and_counts_invalid_lines_apart(tmp_path, service):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([*map(json.dumps, ROWS), json.dumps({**ROWS[0], "task": "mathz"}), "{oops"]) + "\n")
    run = subprocess.run([sys.executable, "-m", "reward_service", "eval", str(src), "--url", service.url],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    table = [line.split() for line in run.stdout.splitlines()]
    assert table[1][:4] == ["all", "4", "4", "0.500"]  # the overall row first: 4 items, all scored
    assert not any(row and row[0] == "task" and row[1] == "mathz" for row in table)  # not a task: invalid
    assert "; 2 invalid lines" in run.stdout


@pytest.mark.parametrize(("setup", "args", "message"), [
    ("missing", [], "no such file"),
    ("empty", [], "is empty: nothing to grade"),
    ("ok", ["--url", "127.0.0.1:9"], "has no scheme: write http://127.0.0.1:9"),
    ("ok", ["--url", "http://127.0.0.1:9"], "reward service at http://127.0.0.1:9 is not reachable"),
    ("ok", ["--recipe", "r1-zer0"], "--recipe: unknown recipe 'r1-zer0'"),
])
def test_mistakes_are_one_line_and_a_nonzero_exit(tmp_path, setup, args, message):
    src = tmp_path / "in.jsonl"
    if setup != "missing":
        src.write_text("" if setup == "empty" else json.dumps(ROWS[0]) + "\n")
    run = subprocess.run([sys.executable, "-m", "reward_service", "eval", str(src), *args],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 2
    assert run.stderr.startswith("error: ") and message in run.stderr and len(run.stderr.strip().splitlines()) == 1
