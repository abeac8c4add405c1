"""verl's custom reward function against a real service, the way verl 0.9.1 loads and calls it.

verl does not install here (it needs ray and tensordict, and pins transformers below the version we test
with), so these tests make its exact calls. Loading: ``load_extern_object`` (``verl/utils/import_utils.py``)
execs the file under a ``custom_module_<hash>`` name, outside ``sys.modules``. Calling: the ``naive`` reward
manager (``verl/experimental/reward_loop/reward_manager/naive.py``) calls ``compute_score(data_source=,
solution_str=, ground_truth=, extra_info=)`` per response, in its event loop's default executor, all of a
batch at once, the response decoded without special tokens, ``extra_info`` with ``num_turns`` and
``rollout_reward_scores`` added. Stacking: ``RewardLoopManager.compute_rm_score`` takes the first result's
keys and ``np.array``s each over the batch. Rows come from a parquet file read as verl's ``RLHFDataset`` reads
it (``datasets.load_dataset("parquet")``), so a code ground truth is the JSON string the file holds.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os

import numpy as np
import pytest

from reward_service.adapters import verl
from tests.conftest import Service, need

KEY = "k-verl-test"
SUM = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
DIFF = "```python\na, b = map(int, input().split())\nprint(a - b)\n```"
TESTS = json.dumps({"inputs": ["1 2\n", "5 7\n"], "outputs": ["3\n", "12\n"]})


@pytest.fixture(scope="module")
def keyed_code_service():
    """Keys on (as compose runs it) and a sandbox for code (auto: Docker here, bwrap without it)."""
    import shutil
    need(shutil.which("bwrap") is not None or shutil.which("docker") is not None, "no sandbox backend installed")
    svc = Service({"REWARD_WORKERS": "1", "REWARD_CODE_WORKERS": "2", "REWARD_SANDBOX_BACKEND": "auto",
                   "REWARD_API_KEYS": KEY})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


@pytest.fixture
def env(keyed_code_service, monkeypatch):
    monkeypatch.setenv("REWARD_SERVICE_URL", keyed_code_service.url)
    monkeypatch.setenv("REWARD_API_KEY", KEY)
    monkeypatch.delenv("REWARD_SERVICE_API_KEY", raising=False)
    monkeypatch.delenv("REWARD_SERVICE_TASK", raising=False)
    monkeypatch.setenv("REWARD_SERVICE_RECIPE", "accuracy")
    verl._client.cache_clear()
    yield monkeypatch
    verl._client.cache_clear()


def load_extern_object(path: str, name: str):
    """verl 0.9.1's loading of ``reward.custom_reward_function.path`` / ``.name``."""
    spec = importlib.util.spec_from_file_location(f"custom_module_{hash(os.path.abspath(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def parquet_rows(tmp_path, rows: list[dict]) -> list[dict]:
    """``rows`` written as a verl data file and read back as verl's dataset reads it."""
    import datasets
    import pandas as pd
    path = str(tmp_path / "train.parquet")
    pd.DataFrame(rows).to_parquet(path)
    return list(datasets.load_dataset("parquet", data_files=path, cache_dir=str(tmp_path / "cache"))["train"])


def naive_manager(compute_score, rows: list[dict], responses: list[str]) -> tuple[list[float], dict[str, np.ndarray]]:
    """The naive manager's calls for a batch, then the reward loop's stacking: (scores, extra infos)."""
    async def one(loop, row, response):
        extra_info = dict(row.get("extra_info") or {})
        extra_info["num_turns"] = 2
        extra_info["rollout_reward_scores"] = {}
        return await loop.run_in_executor(None, lambda: compute_score(
            data_source=row["data_source"], solution_str=response, ground_truth=row["reward_model"]["ground_truth"],
            extra_info=extra_info))

    async def run():
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(one(loop, row, r) for row, r in zip(rows, responses, strict=True)))

    results = asyncio.run(run())
    infos = [dict(result) for result in results]
    keys = list(infos[0].keys())
    return [r["score"] for r in results], {key: np.array([info[key] for info in infos]) for key in keys}


def row(data_source: str, ground_truth: str, **extra_info) -> dict:
    return {"data_source": data_source, "prompt": [{"role": "user", "content": "..."}], "ability": "x",
            "reward_model": {"style": "rule", "ground_truth": ground_truth},
            "extra_info": {"split": "train", "index": 0, **extra_info}}


def test_verl_0_9_1_routes_by_data_source_and_grades_code_from_a_parquet_json_string(env, tmp_path):
    rows = parquet_rows(tmp_path, [
        row("openai/gsm8k", "12"), row("taco", TESTS), row("likaixin/TACO-verified", TESTS),
        row("primeintellect", TESTS), row("codecontests", TESTS), row("apps", "{not json"),
        row("aime2024", "7"), row("numina_olympiads", "7"),
    ])
    assert isinstance(rows[1]["reward_model"]["ground_truth"], str)  # as the file holds it
    compute_score = load_extern_object(verl.__file__, "compute_score")
    scores, infos = naive_manager(compute_score, rows, [
        "so \\boxed{12}", SUM, DIFF, SUM, SUM, SUM, "\\boxed{7}", "\\boxed{8}"])
    assert scores == [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    assert infos["accuracy"].tolist() == [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    assert infos["scored"].tolist() == [1.0] * 5 + [0.0, 1.0, 1.0]  # the malformed tests fail alone
    assert "not JSON" in infos["error"][5] and set(infos["error"][:5]) == {""}


def test_a_source_it_cannot_route_says_why_and_is_never_graded_as_math(env, tmp_path):
    rows = parquet_rows(tmp_path, [
        row("my_lab/secret_set", "4"), row("searchR1_nq", "Paris"), row("my_lab/secret_set", "4", task="math"),
        row("my_lab/secret_set", "4", task="poetry"),
    ])
    compute_score = load_extern_object(verl.__file__, "compute_score")
    scores, infos = naive_manager(compute_score, rows, ["\\boxed{4}", "Paris", "\\boxed{4}", "\\boxed{4}"])
    assert scores == [0.0, 0.0, 1.0, 0.0] and infos["scored"].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert "'my_lab/secret_set' is not one this adapter routes" in infos["error"][0]
    assert "extra_info['task']" in infos["error"][0] and "exact match" in infos["error"][1]
    assert "'poetry'" in infos["error"][3]
    env.setenv("REWARD_SERVICE_TASK", "math")  # the operator's choice for the sources the table lacks
    scores, infos = naive_manager(compute_score, rows[:2], ["\\boxed{4}", "Paris"])
    assert scores == [1.0, 0.0] and "exact match" in infos["error"][1]


def test_the_older_key_variable_is_read_too(env):
    env.delenv("REWARD_API_KEY")
    env.setenv("REWARD_SERVICE_API_KEY", KEY)
    assert verl.compute_score("openai/gsm8k", "so \\boxed{12}", "12")["score"] == 1.0


def test_compute_score_and_batch(service, monkeypatch):
    monkeypatch.setenv("REWARD_SERVICE_URL", service.url)
    monkeypatch.setenv("REWARD_SERVICE_RECIPE", "accuracy")
    verl._client.cache_clear()
    try:
        assert verl.compute_score("openai/gsm8k", "so \\boxed{12}", "12")["score"] == 1.0
        out = verl.compute_score_batch(["math", "math"], ["\\boxed{1}", "\\boxed{2}"], ["1", "\\frac{"], [None, None])
        assert out[0] == {"score": 1.0, "scored": 1.0, "error": "", "accuracy": 1.0}
        assert out[1]["score"] == 0.0 and out[1]["scored"] == 0.0  # unparseable reference: not scored
        assert out[1].keys() == out[0].keys() and out[1]["error"]
    finally:
        verl._client.cache_clear()


def test_verl_batch_reward_manager_makes_one_request_per_batch(service, monkeypatch):
    """Older verl's BatchRewardManager (reward_model.reward_manager: batch) calls the function with keyword
    arguments holding numpy object arrays; the whole batch goes in one request."""
    from tests.trainer.conftest import scored_counts
    monkeypatch.setenv("REWARD_SERVICE_URL", service.url)
    monkeypatch.setenv("REWARD_SERVICE_RECIPE", "accuracy")
    verl._client.cache_clear()
    n = 48
    try:
        before = scored_counts(service.url)
        out = verl.compute_score_batch(
            data_sources=np.array(["openai/gsm8k"] * n, dtype=object),
            solution_strs=np.array([f"so \\boxed{{{i}}}" for i in range(n)], dtype=object),
            ground_truths=np.array([str(i % 2) for i in range(n)], dtype=object),
            extra_infos=np.array([{"index": i} for i in range(n)], dtype=object))
        after = scored_counts(service.url)
    finally:
        verl._client.cache_clear()
    assert [o["score"] for o in out[:3]] == [1.0, 1.0, 0.0] and len(out) == n
    assert after[0] - before[0] == 1  # one POST /score for the 48 items


def test_instruction_following_sets_route_to_ifeval_with_their_labels_as_stored(env, tmp_path):
    """open-instruct's RLVR-IFeval rows hold Tulu 3's func_name label as a JSON string; a Google IFEval row's
    label written as a struct comes back from parquet as a dict of numpy arrays: both grade."""
    google = {"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{"num_bullets": None}]}
    rows = parquet_rows(tmp_path, [
        row("allenai/RLVR-IFeval", json.dumps({"func_name": "validate_lowercase"})),
        row("google/IFEval", json.dumps(google)),
        row("allenai/RLVR-IFeval", json.dumps({"func_name": "no_such_function"})),
    ])
    compute_score = load_extern_object(verl.__file__, "compute_score")
    scores, infos = naive_manager(compute_score, rows, [
        "<think>Mixed Case, Commas</think>all lower case here", "<think>a, b</think>no comma here",
        "anything"])
    assert scores == [1.0, 1.0, 0.0] and infos["scored"].tolist() == [1.0, 1.0, 0.0]
    assert "unknown instruction id 'tulu3:no_such_function'" in infos["error"][2]
    as_struct = verl._item("ifeval", "no comma", {"instruction_id_list": np.array(["punctuation:no_comma"]),
                                                  "kwargs": np.array([{"num_bullets": None}])}, None)
    assert json.loads(as_struct["answer"])["instruction_id_list"] == ["punctuation:no_comma"]
