"""Reward models as recipe components, with a tiny random-init Qwen2 reward model built here (no hub)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

pytest.importorskip("torch")  # the [rm] extra; CI installs it (with the trainer extra)

from reward_service import reward_model  # noqa: E402
from reward_service.engine import GradingEngine  # noqa: E402
from reward_service.recipes import resolve  # noqa: E402
from reward_service.schemas import ScoreItem  # noqa: E402
from reward_service.settings import Settings  # noqa: E402
from tests.conftest import ROOT, Service, build_tiny_rm  # noqa: E402

TEXTS = ["the answer is four", "two and two make four because the question is what is two plus two",
         "sure here you go", "no", "a helpful kind reply " * 6, "rude unsafe words"]


@pytest.fixture(scope="module")
def tiny_rm(tmp_path_factory):
    return build_tiny_rm(tmp_path_factory.mktemp("rm"))


@pytest.fixture(scope="module")
def models(tiny_rm):
    """What `serve --models` loads, and hands the engine that grades with it."""
    return reward_model.RewardModels.load([tiny_rm], "cpu")


def test_batched_scores_equal_one_by_one_whatever_the_padding_side(tiny_rm, models):
    loaded = models.get(tiny_rm)
    alone = [reward_model.score_texts(loaded, [t], 512, 16384)[0][0] for t in TEXTS]
    for batch_tokens in (16384, 40, 8):  # one batch; several; one text per batch
        together = [s for s, _ in reward_model.score_texts(loaded, TEXTS, 512, batch_tokens)]
        assert together == pytest.approx(alone, abs=1e-5)
    loaded.tokenizer.padding_side = "left"  # we pad ourselves, on the right: the tokenizer's side is irrelevant
    try:
        assert [s for s, _ in reward_model.score_texts(loaded, TEXTS, 512, 64)] == pytest.approx(alone, abs=1e-5)
    finally:
        loaded.tokenizer.padding_side = "right"
    assert len(set(round(a, 6) for a in alone)) == len(TEXTS)  # the model tells texts apart (not a constant)


def test_a_long_text_keeps_its_end_and_says_it_was_cut(tiny_rm, models):
    loaded = models.get(tiny_rm)
    long_text = "rude unsafe words " * 20 + "the answer is four"
    [(cut, truncated)] = reward_model.score_texts(loaded, [long_text], 10, 16384)
    tail = " ".join(long_text.split()[-10:])
    [(tail_score, tail_truncated)] = reward_model.score_texts(loaded, [tail], 10, 16384)
    assert truncated and not tail_truncated and cut == pytest.approx(tail_score, abs=1e-6)


async def test_components_scope_normalisation_and_several_models_in_one_recipe(tiny_rm, models):
    recipe = resolve({"components": {
        "format": {"options": {"mode": "r1"}},
        "reward_model.helpful": {"weight": 1.0, "options": {"model": tiny_rm, "normalize": "sigmoid"}},
        "reward_model.harmless": {"weight": 0.5, "options": {"model": tiny_rm, "scope": "full", "normalize": "zscore",
                                                             "mean": 0.1, "std": 2.0, "max_length": 8}},
    }}, "")
    item = ScoreItem(task="none", prompt="what is two plus two", completion="<think>two and two make four</think> "
                     "the answer is four")
    engine = GradingEngine(Settings(workers=1, sandbox_backend="none"), models)
    await engine.start()
    try:
        [result] = await engine.score([item], recipe)
    finally:
        await engine.aclose()
    loaded = models.get(tiny_rm)
    helpful = reward_model.score_texts(loaded, [reward_model.render(loaded.tokenizer, "what is two plus two",
                                                                      "the answer is four")], 4096, 16384)[0][0]
    details = result.details
    assert details["reward_model.helpful"] == {"raw": pytest.approx(helpful, abs=1e-6), "scope": "answer",
                                               "truncated": False}
    assert details["reward_model.harmless"]["scope"] == "full" and details["reward_model.harmless"]["truncated"]
    harmless = (details["reward_model.harmless"]["raw"] - 0.1) / 2.0
    assert result.components == pytest.approx({"format": 1.0, "reward_model.helpful": 1 / (1 + 2.718281828 ** -helpful),
                                               "reward_model.harmless": harmless})
    assert result.reward == pytest.approx(1.0 + result.components["reward_model.helpful"] + 0.5 * harmless)


async def test_requests_from_many_items_run_as_few_batches(tiny_rm, models, monkeypatch):
    calls = []
    real = reward_model.score_texts
    monkeypatch.setattr(reward_model, "score_texts", lambda *a: calls.append(len(a[1])) or real(*a))
    texts = [f"{t} {i}" for i, t in enumerate(TEXTS * 5)]
    results = await asyncio.gather(*(models.score(tiny_rm, t, 512, 16384) for t in texts))
    assert len(results) == 30 and sum(calls) == 30 and len(calls) <= 2


async def test_each_request_is_batched_by_its_own_max_batch_tokens(tiny_rm, models, monkeypatch):
    """Today's batcher kept the first request's max_batch_tokens for every later one, whatever its recipe."""
    calls = []
    real = reward_model.score_texts
    monkeypatch.setattr(reward_model, "score_texts", lambda *a: calls.append((len(a[1]), a[3])) or real(*a))
    await models.score(tiny_rm, TEXTS[0], 512, 16384)  # the first request of this batcher
    await asyncio.gather(*(models.score(tiny_rm, t, 512, 64) for t in TEXTS))
    assert calls[0] == (1, 16384) and sum(n for n, _ in calls[1:]) == len(TEXTS)
    assert {tokens for _, tokens in calls[1:]} == {64}


async def test_an_engine_serves_only_the_models_it_was_given(tiny_rm, models):
    """The models are the engine's, not the process's: another engine in this process does not serve them."""
    recipe = resolve({"components": {"reward_model": {"options": {"model": tiny_rm}}}}, "")
    engine = GradingEngine(Settings(workers=1, sandbox_backend="none"))
    await engine.start()
    try:
        [result] = await engine.score([ScoreItem(task="none", completion="sure here you go")], recipe)
    finally:
        await engine.aclose()
    assert result.reward is None and result.status == "error"
    assert result.error == f"reward_model: reward model {tiny_rm!r} is not served here (serving: none)"


def test_a_recipe_naming_a_model_not_served_is_a_422(service):
    body = {"items": [{"task": "none", "completion": "hi"}],
            "recipe": {"components": {"reward_model": {"options": {"model": "org/not-served"}}}}}
    r = httpx.post(service.url + "/score", json=body, timeout=30)
    assert r.status_code == 422 and "reward model 'org/not-served' is not served here" in r.text


@pytest.mark.parametrize("name", ["reward_model.", "accuracy.extra", "reward_models"])
def test_component_names(name):
    from reward_service.errors import UnknownRecipe
    with pytest.raises(UnknownRecipe):
        resolve({"components": {name: {}}}, "")


def test_a_model_that_cannot_load_stops_the_start_with_one_line():
    done = subprocess.run([sys.executable, "-m", "reward_service", "serve", "--port", "1", "--models",
                           "/nonexistent/rm"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("reward-service: reward model '/nonexistent/rm' cannot be loaded"), done.stderr


def test_a_mixed_batch_through_a_service_that_serves_the_model(tiny_rm):
    svc = Service({"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", "REWARD_REWARD_MODELS": tiny_rm})
    try:
        svc.wait_ready()
        recipe = {"components": {"accuracy": {}, "format": {"options": {"mode": "r1"}},
                                 "reward_model": {"options": {"model": tiny_rm, "normalize": "sigmoid"}}}}
        items = [{"task": "math", "answer": "4", "completion": "<think>two and two</think> \\boxed{4}"},
                 {"task": "none", "prompt": "what is two plus two", "completion": "<think>hmm</think> sure here you go"}]
        r = httpx.post(svc.url + "/score", json={"items": items, "recipe": recipe}, timeout=60)
    finally:
        svc.stop()
    assert r.status_code == 200, r.text
    math_item, general = r.json()["results"]
    assert math_item["components"]["accuracy"] == 1.0 and 0 < math_item["components"]["reward_model"] < 1
    assert "accuracy" not in general["components"] and 0 < general["components"]["reward_model"] < 1
