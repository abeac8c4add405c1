"""The reward function against a live service: one batched request per call, None where unscored."""

from __future__ import annotations

import asyncio
import json
import logging

from tests.conftest import free_port
from tests.trainer.conftest import scored_counts
from trainer.config import ServiceConfig
from trainer.rewards import ServiceScorer, reflection_rate, reward_func, service_reward

GOOD = "<think> 3 times 5 is 15 </think> <answer> 3 * 5 + 7 + 2 </answer>"
REF = json.dumps({"target": 24, "numbers": [3, 5, 7, 2]})


def call(scorer, prompts, completions, **columns):
    logged: dict[str, float] = {}

    async def run():
        try:
            return await reward_func(scorer)(prompts=prompts, completions=completions, completion_ids=None,
                                             log_metric=logged.__setitem__, **columns)
        finally:
            await scorer.aclose()

    return asyncio.run(run()), logged


def test_rewards_are_floats_and_none_for_an_invalid_reference(module_service):
    scorer = ServiceScorer.from_config(ServiceConfig(url=module_service.url, recipe="r1-zero"))
    before = scored_counts(module_service.url)
    rewards, logged = call(
        scorer, ["p"] * 4, [GOOD, GOOD, "<think> wait, let me check </think> <answer> 3 + 5 </answer>", GOOD],
        task=["countdown"] * 4, answer=[REF, REF, REF, "not json"])

    assert rewards[:3] == [2.0, 2.0, 1.0]   # accuracy + format, as the service summed them
    assert rewards[3] is None                # the service could not score it: None, never 0
    assert scored_counts(module_service.url) == (before[0] + 1, before[1] + 4)  # one request, four items
    assert scorer.requests == 1
    assert logged["service/accuracy"] == 2 / 3 and logged["service/format"] == 1.0
    assert logged["service/unscored_frac"] == 0.25
    assert logged["reflection_rate"] == 0.25
    assert logged["service/wait_s"] > 0


def test_chat_completions_and_reference_columns_reach_the_service(module_service):
    scorer = ServiceScorer.from_config(ServiceConfig(url=module_service.url, recipe="accuracy"))
    completions = [[{"role": "assistant", "content": "<think> 2+2 </think> <answer> 4 </answer>"}],
                   [{"role": "assistant", "content": "<think> 2+2 </think> <answer> 5 </answer>"}]]
    rewards, _ = call(scorer, [[{"role": "user", "content": "2+2?"}]] * 2, completions,
                      task=["math", "math"], answer=["4", "4"], tests=[None, None])
    assert rewards == [1.0, 0.0]


def test_an_unreachable_service_gives_none_and_an_error_line(caplog):
    cfg = ServiceConfig(url=f"http://127.0.0.1:{free_port()}", retries=1, backoff_s=0.01)
    scorer = ServiceScorer.from_config(cfg)
    with caplog.at_level(logging.ERROR, logger="trainer.rewards"):
        rewards, logged = call(scorer, ["p", "p"], [GOOD, GOOD], task=["countdown"] * 2, answer=[REF, REF])
    assert rewards == [None, None]
    assert logged["service/unscored_frac"] == 1.0
    assert "REWARD SERVICE UNAVAILABLE" in caplog.text
    assert scorer.failed_requests == 1


def test_the_reward_function_is_a_coroutine_function_trl_detects():
    from trl.trainer.utils import get_callable_name, is_async_callable
    scorer = ServiceScorer.from_config(ServiceConfig())
    assert is_async_callable(reward_func(scorer))
    assert get_callable_name(reward_func(scorer)) == service_reward.__name__


def test_reflection_rate_counts_completions_with_a_reflection_phrase():
    texts = ["Wait, that is wrong", "let me check again", "so 4", "re-evaluate: 5", "waiting room"]
    assert reflection_rate(texts) == 3 / 5
    assert reflection_rate([]) == 0.0


def test_the_scorer_keeps_a_bounded_history():
    cfg = ServiceConfig(url=f"http://127.0.0.1:{free_port()}", retries=1, backoff_s=0.01)
    scorer = ServiceScorer.from_config(cfg)
    scorer.history_size = 3

    async def run():
        try:
            for _ in range(5):
                await reward_func(scorer)(prompts=["p"], completions=[GOOD], task=["countdown"], answer=[REF])
        finally:
            await scorer.aclose()

    asyncio.run(run())
    assert scorer.failed_requests == 5 and len(scorer.history) == 3  # the counters keep the totals


def test_a_chat_completion_is_graded_by_its_last_assistant_message():
    """One rule with the service (reward_service.schemas.completion_text): the trainer used to glue every
    assistant turn together, so an earlier turn's answer could count and the tags of two turns ran together."""
    from trainer.rewards import build_items
    chat = [{"role": "assistant", "content": "<think>try</think> <answer>5</answer>"},
            {"role": "tool", "content": "wrong"},
            {"role": "assistant", "content": "<think>again</think> <answer>4</answer>"}]
    [item] = build_items(["2+2?"], [chat], None, {"answer": ["4"]})
    assert item.completion == "<think>again</think> <answer>4</answer>"
