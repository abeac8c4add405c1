"""Data loading (local JSONL/Parquet, column mapping) and the generated/shipped sets, graded by the service."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from reward_service.client import RewardClient
from reward_service.schemas import ScoreItem, Status
from tests.conftest import need
from tests.trainer.conftest import start_service
from trainer import generators
from trainer.config import DataConfig
from trainer.data import item_fields, prepare

ROWS = [{"question": "What is 2+3?", "gold": 5, "kind": "math"},
        {"question": "Write f(x) returning x+1.", "cases": {"fn_name": "f", "inputs": [[1]], "outputs": [2]},
         "lang": "python", "kind": "code"}]


def _cfg(source, **kw):
    return DataConfig(source=str(source), prompt_column="question", answer_column="gold", tests_column="cases",
                      language_column="lang", task_column="kind", **kw)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_local_files_load_into_one_shape(tmp_path, suffix):
    path = tmp_path / f"rows{suffix}"
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    else:
        pd.DataFrame([{**r, "cases": json.dumps(r["cases"]) if "cases" in r else None} for r in ROWS]).to_parquet(path)
    rows = prepare(_cfg(path, template="r1_zero")).to_list()

    assert [r["task"] for r in rows] == ["math", "code"]
    assert rows[0]["prompt"].endswith("User: What is 2+3? Assistant:")
    assert rows[0]["answer"] == "5" and rows[0]["question"] == "What is 2+3?"
    assert item_fields(rows[1]["task"], rows[1]) == {"task": "code", "language": "python",
                                                     "tests": {"fn_name": "f", "inputs": [[1]], "outputs": [2]}}


def test_limit_shuffle_and_errors(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps({"question": f"q{i}", "gold": i}) + "\n" for i in range(10)))
    assert len(prepare(_cfg(path, limit=3, shuffle_seed=1, task="math"))) == 3
    with pytest.raises(FileNotFoundError):
        prepare(_cfg(tmp_path / "missing.jsonl"))
    with pytest.raises(KeyError, match="prompt_column"):
        prepare(DataConfig(source=str(path)))


def test_builtin_sources_are_generated_in_process():
    rows = prepare(DataConfig(source="builtin:countdown", limit=5, template="raw")).to_list()
    assert len(rows) == 5 and {r["task"] for r in rows} == {"countdown"}
    with pytest.raises(ValueError, match="builtin"):
        prepare(DataConfig(source="builtin:nope"))


def test_generators_are_seeded():
    assert list(generators.countdown(5, seed=3)) == list(generators.countdown(5, seed=3))
    assert list(generators.arithmetic(5, seed=3)) != list(generators.arithmetic(5, seed=4))


def _answered(record, text):
    fields = item_fields(record["task"], record)
    return ScoreItem(prompt=record["prompt"], completion=f"<think> working </think> <answer> {text} </answer>",
                     **fields)


def test_generated_problems_grade_correct_for_their_references(module_service):
    countdown = list(generators.countdown(40, seed=0))
    arithmetic = list(generators.arithmetic(40, seed=0))
    items = [_answered(r, r["solution"]) for r in countdown] + [_answered(r, r["answer"]) for r in arithmetic]
    wrong = [_answered(r, r["solution"] + " + 1") for r in countdown[:5]]
    with RewardClient(module_service.url) as client:
        results = client.score(items + wrong, recipe="accuracy")
    assert [r.reward for r in results[:len(items)]] == [1.0] * len(items), [r.error for r in results]
    assert [r.reward for r in results[len(items):]] == [0.0] * 5


@pytest.mark.slow
def test_shipped_leetcode_solutions_pass_their_tests_in_the_sandbox():
    import sandbox
    need(sandbox.available("bwrap"), "bubblewrap sandbox not available")
    problems = generators.leetcode()
    assert len(problems) >= 5
    svc = start_service(REWARD_SANDBOX_BACKEND="bwrap")
    try:
        items = [_answered(p, f"```python\n{p['solution']}```") for p in problems]
        broken = [_answered(p, "```python\ndef nope():\n    pass\n```") for p in problems[:2]]
        with RewardClient(svc.url) as client:
            results = client.score(items + broken, recipe="accuracy")
    finally:
        svc.stop()
    assert all(r.status is Status.ok for r in results), [r.error for r in results]
    assert [r.reward for r in results] == [1.0] * len(items) + [0.0, 0.0]
