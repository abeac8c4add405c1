import pytest

from reward_service.grading.format import format_reward, tag_count_reward

R1_ZERO = [
    ("<think>reason</think> <answer>42</answer>", True, None),
    ("  <think>\nreason\n</think>\n<answer>\n42\n</answer>\n", True, None),
    ("<think>reason</think><answer>42</answer>", True, None),
    ("Sure! <think>reason</think> <answer>42</answer>", False, "text before <think>"),
    ("<think>reason</think> so <answer>42</answer>", False, "text between"),
    ("<think>reason</think> <answer>42</answer> done", False, "text after </answer>"),
    ("<think>reason</think> <answer> </answer>", False, "empty answer"),
    ("<think> </think> <answer>42</answer>", False, "empty think"),
    ("<think>a</think><think>b</think> <answer>42</answer>", False, "exactly one"),
    ("<think>a <think>b</think></think> <answer>42</answer>", False, "exactly one"),
    ("<think>reason <answer>41</answer></think> <answer>42</answer>", False, "inside the think block"),
    ("<think>reason", False, "exactly one"),
    ("<think>reason</think> <answer>42", False, "exactly one <answer>"),
    ("<think>reason</think> 42", False, "exactly one <answer>"),
    ("<think>a</think> <answer>1</answer> <answer>2</answer>", False, "exactly one <answer>"),
    ("<think>a</think> </answer>1<answer>", False, "text between"),
    ("just 42", False, "exactly one"),
]


@pytest.mark.parametrize(("text", "ok", "reason"), R1_ZERO)
def test_r1_zero_template(text, ok, reason):
    verdict = format_reward(text, "r1_zero")
    assert verdict.score == (1.0 if ok else 0.0)
    assert (verdict.reason is None) if ok else (reason in verdict.reason)


@pytest.mark.parametrize(("text", "ok"), [
    ("<think>reason</think>\nThe answer is 42.", True),
    ("<think>reason</think> <answer>42</answer>", True),
    ("<think>reason</think>", False),                     # no final answer
    ("<think>reason</think>   \n", False),
    ("intro <think>reason</think> 42", False),
    ("<think>a</think> 42 <think>b</think> 43", False),   # a second think block
    ("<think>a</think> </answer>42<answer>", False),
    ("<think>a</think> <answer>42", False),
    ("42", False),
])
def test_r1_style(text, ok):
    assert format_reward(text, "r1").score == (1.0 if ok else 0.0)


@pytest.mark.parametrize(("text", "mode", "ok"), [
    ("reasoning</think> <answer>42</answer>", "r1_zero", True),
    ("reasoning</think>\nSo 42.", "r1", True),
    ("<think>reasoning</think> <answer>42</answer>", "r1_zero", False),  # opens a second block
    ("reasoning with no end", "r1", False),
    ("reasoning</think> x </think> 42", "r1", False),
    ("</think> <answer>42</answer>", "r1_zero", False),                  # empty thinking
])
def test_prefilled_think(text, mode, ok):
    assert format_reward(text, mode, prefilled_think=True).score == (1.0 if ok else 0.0)


@pytest.mark.parametrize(("text", "mode", "prefilled", "score"), [
    ("<think>a</think> <answer>b</answer>", "r1_zero", False, 1.0),
    ("<think>a</think> b", "r1_zero", False, 0.5),
    ("<think>a</think><think>c</think> <answer>b</answer>", "r1_zero", False, 0.5),
    ("a <answer>b</answer>", "r1_zero", False, 0.5),
    ("nothing", "r1_zero", False, 0.0),
    ("<think>a</think> b", "r1", False, 1.0),
    ("<think>a b", "r1", False, 0.5),
    ("a</think> <answer>b</answer>", "r1_zero", True, 1.0),
    ("<think>a</think> <answer>b</answer>", "r1_zero", True, 2 / 3),
])
def test_tag_count_partial_credit(text, mode, prefilled, score):
    verdict = tag_count_reward(text, mode, prefilled)
    assert verdict.score == pytest.approx(score)
    assert (verdict.reason is None) == (score == 1.0)


def test_adversarial_input_is_linear():
    huge = "<think>" + "</think><answer>" * 50_000 + "x" * 200_000
    assert format_reward(huge, "r1_zero").score == 0.0
    assert format_reward("<think>" + "a" * 400_000 + "</think><answer>1</answer>").score == 1.0
    assert tag_count_reward(huge).score < 1.0
