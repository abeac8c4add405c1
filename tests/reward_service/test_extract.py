from reward_service.grading.answer_span import last_boxed
from reward_service.grading.extract import (
    completion_text,
    prompt_prefills_think,
    split_completion,
)
from reward_service.schemas import ChatMessage


def test_answer_tag_is_the_region_not_the_reasoning():
    s = split_completion("<think>maybe \\boxed{3}</think> <answer>\\boxed{4}</answer>")
    assert (s.region, s.source, s.reasoning) == ("\\boxed{4}", "answer_tag", "maybe \\boxed{3}")


def test_text_after_think_is_the_region():
    s = split_completion("<think>the answer is 3</think>So it is \\boxed{5}.")
    assert s.source == "after_think" and s.region == "So it is \\boxed{5}."


def test_unclosed_think_has_no_region():
    s = split_completion("<think>the answer is 3, wait")
    assert s.region is None and "never closed" in (s.reason or "")


def test_prefilled_think_closes_without_opener():
    s = split_completion("reasoning 2+2=4</think>\\boxed{4}", prefilled_think=True)
    assert s.region == "\\boxed{4}" and s.reasoning == "reasoning 2+2=4"
    assert split_completion("still thinking", prefilled_think=True).region is None


def test_untagged_completion_is_all_region():
    s = split_completion("The answer is \\boxed{7}")
    assert s.source == "whole" and s.region == "The answer is \\boxed{7}" and s.reasoning == ""


def test_last_answer_tag_wins_and_unclosed_answer_has_no_region():
    assert split_completion("<think>a</think><answer>1</answer><answer>2</answer>").region == "2"
    assert split_completion("<think>a</think><answer>1").region is None


def test_chat_completion_grades_last_assistant_message():
    msgs = [ChatMessage(role="assistant", content="old"), ChatMessage(role="user", content="again"),
            ChatMessage(role="assistant", content="new")]
    assert completion_text(msgs) == "new"
    assert completion_text([{"role": "user", "content": "q"}]) == ""


def test_prefilled_prompt_detection():
    assert prompt_prefills_think("<|Assistant|><think>\n")
    assert not prompt_prefills_think("Solve it.")
    assert prompt_prefills_think([{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>"}])
    assert not prompt_prefills_think([{"role": "user", "content": "end with <think>"}])


def test_last_boxed_balances_braces():
    assert last_boxed("\\boxed{1} then \\boxed{\\frac{1}{2}}") == "\\frac{1}{2}"
    assert last_boxed("\\boxed{unbalanced") is None
    assert last_boxed("no box") is None
    assert last_boxed("\\boxed 5 and \\frac{1}{2}") == "5"
    assert last_boxed("so \\boxed{}") == ""
