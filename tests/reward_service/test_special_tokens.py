"""Trailing stop and padding tokens are not part of the answer: stripped at the very end, never in the middle,
before any grader looks, and reported in ``details.stripped_tokens``."""

from __future__ import annotations

import httpx
import pytest

from reward_service.grading.special_tokens import KNOWN, stop_tokens, strip_trailing

TOKENS = stop_tokens()
RIGHT = "<think>2+2 is 4</think> <answer>\\boxed{4}</answer>"


@pytest.mark.parametrize("token", KNOWN)
def test_each_known_token_at_the_end_is_stripped(token):
    assert strip_trailing(RIGHT + token, TOKENS) == (RIGHT, (token,))


@pytest.mark.parametrize(("text", "expected"), [
    (RIGHT + "<|im_end|>\n<|endoftext|><|endoftext|>  ", (RIGHT, ("<|im_end|>", "<|endoftext|>", "<|endoftext|>"))),
    (RIGHT + "\n<|eot_id|>", (RIGHT + "\n", ("<|eot_id|>",))),  # the model's own newline stays
    (RIGHT + "<end_of_turn>\n<pad><pad>", (RIGHT, ("<end_of_turn>", "<pad>", "<pad>"))),
    (RIGHT + "<｜end▁of▁sentence｜>", (RIGHT, ("<｜end▁of▁sentence｜>",))),
    ("<|im_end|>", ("", ("<|im_end|>",))),
])
def test_repeated_tokens_with_whitespace_between_are_all_stripped(text, expected):
    assert strip_trailing(text, TOKENS) == expected


@pytest.mark.parametrize("text", [
    RIGHT + "<|im_end|>\n<|im_start|>user\nmore",   # wrote on past its stop token: graded on all of it
    "<|im_end|>" + RIGHT,
    RIGHT + "  \n",                                  # no token: the text as it is, trailing spaces included
    RIGHT + "<|im_end|>x",
    RIGHT + "<|im_end",                              # a cut-off token is not the token
])
def test_nothing_is_stripped_from_the_middle(text):
    assert strip_trailing(text, TOKENS) == (text, ())


def test_the_setting_adds_tokens_to_the_known_ones():
    tokens = stop_tokens(" <|my_eos|> ,[END],")
    assert {"<|my_eos|>", "[END]"} <= set(tokens) and set(KNOWN) <= set(tokens)
    assert strip_trailing(RIGHT + "[END]<|my_eos|>", tokens) == (RIGHT, ("[END]", "<|my_eos|>"))
    assert strip_trailing(RIGHT + "[END]", TOKENS) == (RIGHT + "[END]", ())


def _score(service, completion, recipe="r1-zero"):
    body = {"items": [{"completion": completion, "answer": "4"}], "recipe": recipe}
    return httpx.post(service.url + "/score", json=body, timeout=60).json()["results"][0]


def test_a_right_completion_ending_in_its_stop_token_gets_format_and_accuracy(service):
    result = _score(service, RIGHT + "<|im_end|>\n<|endoftext|>")
    assert result["components"] == {"accuracy": 1.0, "format": 1.0} and result["reward"] == 2.0
    assert result["details"]["stripped_tokens"] == ["<|im_end|>", "<|endoftext|>"]


def test_a_chat_completion_is_stripped_too(service):
    body = {"items": [{"completion": [{"role": "user", "content": "2+2?<|im_end|>"},
                                      {"role": "assistant", "content": RIGHT + "<|eot_id|>"}], "answer": "4"}]}
    [result] = httpx.post(service.url + "/score", json=body, timeout=60).json()["results"]
    assert result["components"] == {"accuracy": 1.0, "format": 1.0}
    assert result["details"]["stripped_tokens"] == ["<|eot_id|>"]


def test_text_after_the_stop_token_still_fails_the_format(service):
    result = _score(service, RIGHT + "<|im_end|>\n<|im_start|>user\nthanks")
    assert result["components"]["format"] == 0.0 and "stripped_tokens" not in result["details"]


def test_the_same_answer_with_and_without_the_token_scores_the_same_and_only_one_says_so(service):
    plain, tokened = _score(service, RIGHT + " "), _score(service, RIGHT + " <|im_end|>")
    assert plain["reward"] == tokened["reward"] == 2.0
    assert "stripped_tokens" not in plain["details"] and tokened["details"]["stripped_tokens"] == ["<|im_end|>"]


async def test_judges_see_the_completion_without_them_and_the_setting_adds_one():
    """The engine strips before anything else looks: an LLM judge (a fake on loopback) is asked about the
    completion without its stop tokens, REWARD_EXTRA_STOP_TOKENS's included."""
    from reward_service.engine import GradingEngine
    from reward_service.recipes import resolve
    from reward_service.schemas import ScoreItem
    from reward_service.settings import Settings
    from tests.reward_service._fake_judge import Judge, data_of, declared, reset, serve

    recipe = resolve({"components": {"accuracy": {}, "llm_judge": {"options": {"judge": "judge", "scope": "full"}}}},
                     "")
    with serve() as url:
        reset()
        engine = GradingEngine(Settings(workers=1, sandbox_backend="none", judges=declared(url),
                                        extra_stop_tokens="<|my_stop|>"))
        await engine.start()
        try:
            [result] = await engine.score([ScoreItem(completion=RIGHT + "<|im_end|><|my_stop|>", answer="4")], recipe)
        finally:
            await engine.aclose()
    assert result.components == {"accuracy": 1.0, "llm_judge": 0.7}
    assert result.details["stripped_tokens"] == ["<|im_end|>", "<|my_stop|>"]
    assert data_of(Judge.calls[-1]["prompt"])["response"] == RIGHT
