"""OpenRLHF's reward paths against a real service, the way OpenRLHF 0.11.2 drives them.

OpenRLHF itself does not install here (it requires deepspeed and flash-attn, CUDA builds), so these tests make
the exact calls its ``SingleTurnAgentExecutor`` (``openrlhf/utils/agent.py``) makes: the file form is loaded
with ``spec_from_file_location("reward_func", path)`` and called from a thread as
``reward_func([query], [prompt], [label])``, one query a call; the URL form is a POST of
``{"query", "prompts", "labels"}`` with no ``Authorization`` header. The query is what OpenRLHF builds: a real
Hugging Face tokenizer's ``decode(prompt_ids + response_ids, skip_special_tokens=False)``, so it ends in the
model's stop token. The key comes from the environment, never from a URL or a command line.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json

import httpx
import pytest

from reward_service.adapters import openrlhf
from tests.conftest import Service

KEY = "k-openrlhf-test"
RIGHT = "<think>2 and 2 make 4</think> <answer>\\boxed{4}</answer>"
WRONG = "<think>2 and 2 make 5</think> <answer>\\boxed{5}</answer>"


@pytest.fixture(scope="module")
def keyed_service():
    svc = Service({"REWARD_WORKERS": "1", "REWARD_API_KEYS": KEY, "REWARD_SANDBOX_BACKEND": "none",
                   "REWARD_EXTRA_STOP_TOKENS": "<|my_stop|>"})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


@pytest.fixture
def env(keyed_service, monkeypatch):
    monkeypatch.setenv("REWARD_SERVICE_URL", keyed_service.url)
    monkeypatch.setenv("REWARD_SERVICE_RECIPE", "accuracy")
    openrlhf._client.cache_clear()
    yield monkeypatch
    openrlhf._client.cache_clear()


@pytest.fixture(scope="module")
def tokenizer():
    """A byte-level BPE tokenizer with ChatML's special tokens (Qwen's layout), built here: no hub."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {c: i for i, c in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                 additional_special_tokens=["<|im_start|>", "<|my_stop|>"])
    hf.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    return hf


def rollout(tokenizer, question: str, response: str, stop: tuple[str, ...] = ("<|im_end|>",)) -> tuple[str, str]:
    """(prompt, query) as OpenRLHF 0.11 makes them: the chat-templated prompt, tokenized without special
    tokens added; the response's tokens and its stop token(s) after it; all decoded with special tokens."""
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                           add_generation_prompt=True)
    prompt_ids = tokenizer(text=prompt, add_special_tokens=False)["input_ids"]
    action_ids = tokenizer(text=response, add_special_tokens=False)["input_ids"]
    action_ids += tokenizer.convert_tokens_to_ids(list(stop))
    return prompt, tokenizer.decode(prompt_ids + action_ids, skip_special_tokens=False)


def load_reward_func():
    """OpenRLHF 0.11.2's loading of ``--reward.remote_url path/to/file.py``."""
    spec = importlib.util.spec_from_file_location("reward_func", openrlhf.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reward_func


def per_query(reward_func, queries, prompts, labels):
    """OpenRLHF's ``_fetch_rewards_via_func``: one query a call, each call in a thread."""
    async def run():
        return await asyncio.gather(*(asyncio.to_thread(reward_func, [q], [p], [lab])
                                      for q, p, lab in zip(queries, prompts, labels, strict=True)))
    return asyncio.run(run())


def test_queries_decoded_with_special_tokens_get_their_reward_through_the_file_form(env, tokenizer):
    env.setenv("REWARD_API_KEY", KEY)
    env.setenv("REWARD_SERVICE_RECIPE", "r1-zero")
    rollouts = [rollout(tokenizer, "2+2?", RIGHT), rollout(tokenizer, "2+2?", WRONG),
                rollout(tokenizer, "2+2?", RIGHT, ("<|im_end|>", "<|endoftext|>", "<|endoftext|>")),
                rollout(tokenizer, "2+2?", RIGHT, ("<|my_stop|>",)),  # REWARD_EXTRA_STOP_TOKENS
                rollout(tokenizer, "2+2?", RIGHT + "<|im_end|>\n<|im_start|>user\nmore", ())]
    assert all(query.endswith(("<|im_end|>", "<|endoftext|>", "<|my_stop|>", "more")) for _, query in rollouts)
    outs = per_query(load_reward_func(), [q for _, q in rollouts], [p for p, _ in rollouts], ["4"] * 5)
    assert [float(o["rewards"][0]) for o in outs] == [2.0, 1.0, 2.0, 2.0, 1.0]
    assert [float(o["extra_logs"]["format"][0]) for o in outs] == [1.0, 1.0, 1.0, 1.0, 0.0]
    assert [float(o["extra_logs"]["accuracy"][0]) for o in outs] == [1.0, 0.0, 1.0, 1.0, 1.0]


def test_every_call_logs_the_same_keys_even_when_an_item_is_not_scored(env, tokenizer):
    """OpenRLHF concatenates the per-query ``extra_logs``; a key missing from one breaks the whole batch."""
    env.setenv("REWARD_API_KEY", KEY)
    env.setenv("REWARD_SERVICE_RECIPE", "r1-zero")
    prompt, query = rollout(tokenizer, "2+2?", RIGHT)
    outs = per_query(load_reward_func(), [query, query], [prompt, prompt], ["4", "\\frac{"])
    assert [set(o["extra_logs"]) for o in outs] == [{"scored", "accuracy", "format"}] * 2
    assert [float(o["extra_logs"]["scored"][0]) for o in outs] == [1.0, 0.0]


def test_the_url_form_strips_the_stop_token_too(service, tokenizer):
    prompt, query = rollout(tokenizer, "2+2?", RIGHT)
    body = {"query": [query, query], "prompts": [prompt, prompt], "labels": ["4", "\\frac{"]}
    out = httpx.post(service.url + "/get_reward", json=body, timeout=60).json()  # no Authorization, as OpenRLHF
    assert out["rewards"] == [2.0, 0.0]
    assert out["extra_logs"] == {"scored": [1.0, 0.0], "accuracy": [1.0, 0.0], "format": [1.0, 1.0]}


def test_reward_func_scores_a_batch_with_the_key_from_the_environment(env, keyed_service):
    env.setenv("REWARD_API_KEY", KEY)
    prompts = ["Q: 1+1? A:", "Q: 2+2? A:", "Q: x? A:"]
    queries = [prompts[0] + " \\boxed{2}", prompts[1] + " \\boxed{5}", prompts[2] + " \\boxed{1}"]
    out = openrlhf.reward_func(queries, prompts, ["2", "4", "\\frac{"])
    rewards = [float(x) for x in out["rewards"]]
    assert rewards == [1.0, 0.0, 0.0] and [float(x) for x in out["scores"]] == rewards
    assert [float(x) for x in out["extra_logs"]["scored"]] == [1.0, 1.0, 0.0]  # an unparseable reference
    assert KEY not in keyed_service.logs()


def test_the_older_key_variable_is_read_too(env):
    env.delenv("REWARD_API_KEY", raising=False)
    env.setenv("REWARD_SERVICE_API_KEY", KEY)
    assert [float(x) for x in openrlhf.reward_func(["Q \\boxed{2}"], ["Q"], ["2"])["rewards"]] == [1.0]


def test_without_the_key_it_fails_loudly_not_with_zeros(env):
    from reward_service.client import RewardServiceError
    env.delenv("REWARD_API_KEY", raising=False)
    env.delenv("REWARD_SERVICE_API_KEY", raising=False)
    with pytest.raises(RewardServiceError) as err:
        openrlhf.reward_func(["Q \\boxed{2}"], ["Q"], ["2"])
    assert err.value.status_code == 401


# -- the two forms build items alike (one function: reward_service.adapters.openrlhf.items) -----------------

SUMS = json.dumps({"inputs": ["1 2\n", "3 4\n"], "outputs": ["3\n", "7\n"]})  # a label is a string: JSON tests
ADDS = "<think>add them</think>\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"
SUBTRACTS = "<think>subtract</think>\n```python\na, b = map(int, input().split())\nprint(a - b)\n```"
FORMS = {
    "math": (["Q: 2+2?", "Q: 2+2?", "Q: 2+2?", "Q: x?"], [" \\boxed{4}", " \\boxed{5}", " no idea", " \\boxed{1}"],
             ["4", "4", "4", "\\frac{"], [1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0]),
    "code": (["Sum two ints."] * 4, [ADDS, SUBTRACTS, "I would add them.", ADDS], [SUMS, SUMS, SUMS, "not json"],
             [1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0]),
}


@pytest.mark.parametrize("task", ["math", "code"])
def test_the_url_and_file_forms_give_the_same_rewards(code_service, monkeypatch, task):
    """Today's URL form passed a code label as `answer`: its code items were never graded (reward 0)."""
    prompts, responses, labels, rewards, scored = FORMS[task]
    queries = [p + r for p, r in zip(prompts, responses, strict=True)]
    monkeypatch.setenv("REWARD_SERVICE_URL", code_service.url)
    monkeypatch.setenv("REWARD_SERVICE_RECIPE", "accuracy")
    monkeypatch.setenv("REWARD_SERVICE_TASK", task)
    monkeypatch.delenv("REWARD_API_KEY", raising=False)
    monkeypatch.delenv("REWARD_SERVICE_API_KEY", raising=False)
    openrlhf._client.cache_clear()
    try:
        by_file = openrlhf.reward_func(queries, prompts, labels)
    finally:
        openrlhf._client.cache_clear()
    by_url = httpx.post(f"{code_service.url}/get_reward?task={task}&recipe=accuracy", timeout=120,
                        json={"query": queries, "prompts": prompts, "labels": labels}).json()
    assert [float(x) for x in by_file["rewards"]] == by_url["rewards"] == rewards
    assert [float(x) for x in by_file["extra_logs"]["scored"]] == by_url["extra_logs"]["scored"] == scored
