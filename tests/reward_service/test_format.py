import pytest

from reward_service.grading.format import expected_tags, format_reward, tag_count_reward
from reward_service.schemas import Status

R1_ZERO = [
    ("<think>reason</think> <answer>42</answer>", True, None),
    ("  <think>\nreason\n</think>\n<answer>\n42\n</answer>\n", True, None),
    ("<think>reason</think><answer>42</answer>", True, None),
    ("<think>a < b and c > d</think> <answer>x <= 3</answer>", True, None),
    ("Sure! <think>reason</think> <answer>42</answer>", False, "text before <think>"),
    ("</think> <think>reason <answer>42</answer>", False, "</think> before <think>"),
    ("<think>reason</think> so <answer>42</answer>", False, "text between </think> and <answer>"),
    ("<think>reason</think> <answer>42</answer> done", False, "text after </answer>"),
    ("<think>reason</think> <answer> \n </answer>", False, "empty answer"),
    ("<think>reason</think> <answer></answer>", False, "empty answer"),
    ("<think> </think> <answer>42</answer>", False, "empty think block"),
    ("<think>a</think><think>b</think> <answer>42</answer>", False, "found 2 <think> and 2 </think>"),
    ("<think>a <think>b</think></think> <answer>42</answer>", False, "found 2 <think> and 2 </think>"),
    ("<think>a</think></think> <answer>42</answer>", False, "found 1 <think> and 2 </think>"),
    ("<think>reason <answer>41</answer></think> <answer>42</answer>", False, "answer tags inside the think"),
    ("<think>reason <answer>41</think>", False, "answer tags inside the think"),
    ("<think>reason", False, "found 1 <think> and 0 </think> (truncated?)"),
    ("<think>reason</think> <answer>42", False, "found 1 <answer> and 0 </answer>"),
    ("<think>reason</think> 42", False, "found 0 <answer> and 0 </answer>"),
    ("<think>a</think> <answer>1</answer> <answer>2</answer>", False, "found 2 <answer> and 2 </answer>"),
    ("<think>a</think> <answer>1 <answer>2</answer></answer>", False, "found 2 <answer> and 2 </answer>"),
    ("<think>a</think> </answer>1<answer>", False, "</answer> before <answer>"),
    ("<THINK>a</THINK> <ANSWER>1</ANSWER>", False, "found 0 <think>"),
    ("just 42", False, "found 0 <think> and 0 </think>"),
    ("", False, "found 0 <think>"),
]


@pytest.mark.parametrize(("text", "ok", "reason"), R1_ZERO)
def test_r1_zero_template(text, ok, reason):
    verdict = format_reward(text, "r1_zero")
    assert verdict.status is Status.ok
    assert verdict.score == (1.0 if ok else 0.0)
    assert verdict.reason is None if ok else reason in verdict.reason


R1 = [
    ("<think>reason</think>\nThe answer is 42.", True, None),
    ("\n<think>reason</think>\n\n**Answer:** $\\boxed{42}$", True, None),
    ("<think>reason</think> <answer>42</answer>", True, None),
    ("<think>reason</think> So: <answer>42</answer> (checked)", True, None),
    ("<think>reason</think>", False, "no final answer after </think>"),
    ("<think>reason</think>   \n", False, "no final answer after </think>"),
    ("<think>reason</think> <answer> </answer>", False, "empty answer"),
    ("<think>reason</think> the answer: <answer></answer>", False, "empty answer"),
    ("<think> \n </think> 42", False, "empty think block"),
    ("intro <think>reason</think> 42", False, "text before <think>"),
    ("42 </think> <think> reason", False, "</think> before <think>"),
    ("<think>a</think> 42 <think>b</think> 43", False, "found 2 <think> and 2 </think>"),
    ("<think>a</think> 42 </think>", False, "found 1 <think> and 2 </think>"),
    ("<think>a</think> 42 <think>", False, "found 2 <think> and 1 </think>"),
    ("<think>a <answer>42</answer></think> 42", False, "answer tags inside the think block"),
    ("<think>a</think> </answer>42<answer>", False, "</answer> before <answer>"),
    ("<think>a</think> <answer>42", False, "at most one <answer>…</answer> pair"),
    ("<think>a</think> 42</answer>", False, "at most one <answer>…</answer> pair"),
    ("<think>a</think> <answer>1</answer><answer>2</answer>", False, "at most one"),
    ("<think>a long thought that was cut off mid-sen", False, "(truncated?)"),
    ("42", False, "found 0 <think> and 0 </think>"),
]


@pytest.mark.parametrize(("text", "ok", "reason"), R1)
def test_r1_style(text, ok, reason):
    verdict = format_reward(text, "r1")
    assert verdict.score == (1.0 if ok else 0.0)
    assert verdict.reason is None if ok else reason in verdict.reason


PREFILLED = [
    ("reasoning</think> <answer>42</answer>", "r1_zero", True, None),
    ("\nreasoning\n</think>\n<answer>42</answer>\n", "r1_zero", True, None),
    ("reasoning</think>\nSo 42.", "r1", True, None),
    ("reasoning</think> <answer>42</answer>", "r1", True, None),
    ("<think>reasoning</think> <answer>42</answer>", "r1_zero", False, "opens it again (1×)"),
    ("<think>reasoning</think> 42", "r1", False, "opens it again"),
    ("reasoning with no end", "r1", False, "expected exactly one </think>, found 0 (truncated?)"),
    ("reasoning with no end <answer>42</answer>", "r1_zero", False, "found 0 (truncated?)"),
    ("reasoning</think> x </think> 42", "r1", False, "expected exactly one </think>, found 2"),
    ("</think> <answer>42</answer>", "r1_zero", False, "empty think block"),
    ("reasoning</think>", "r1", False, "no final answer"),
    ("reasoning</think> so <answer>42</answer>", "r1_zero", False, "text between </think> and <answer>"),
    ("reasoning</think> <answer>42</answer> bye", "r1_zero", False, "text after </answer>"),
    ("reasoning <answer>41</answer></think> <answer>42</answer>", "r1_zero", False, "inside the think block"),
]


@pytest.mark.parametrize(("text", "mode", "ok", "reason"), PREFILLED)
def test_prefilled_think(text, mode, ok, reason):
    verdict = format_reward(text, mode, prefilled_think=True)
    assert verdict.score == (1.0 if ok else 0.0)
    assert verdict.reason is None if ok else reason in verdict.reason


def test_text_before_closing_tag_is_thinking_only_when_prefilled():
    text = "reasoning</think> <answer>42</answer>"
    assert format_reward(text, "r1_zero", prefilled_think=True).score == 1.0
    assert format_reward(text, "r1_zero", prefilled_think=False).score == 0.0


def test_unknown_mode_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown format mode"):
        format_reward("<think>a</think> b", "r2")  # type: ignore[arg-type]


@pytest.mark.parametrize(("mode", "prefilled", "tags"), [
    ("r1_zero", False, ["<think>", "</think>", "<answer>", "</answer>"]),
    ("r1_zero", True, ["</think>", "<answer>", "</answer>"]),
    ("r1", False, ["<think>", "</think>"]),
    ("r1", True, ["</think>"]),
])
def test_expected_tags(mode, prefilled, tags):
    assert expected_tags(mode, prefilled) == tags


@pytest.mark.parametrize(("text", "mode", "prefilled", "score"), [
    ("<think>a</think> <answer>b</answer>", "r1_zero", False, 1.0),
    ("<think>a</think> b", "r1_zero", False, 0.5),
    ("<think>a</think><think>c</think> <answer>b</answer>", "r1_zero", False, 0.5),
    ("<think>a</think> <answer>b</answer> <answer>c</answer>", "r1_zero", False, 0.5),
    ("a <answer>b</answer>", "r1_zero", False, 0.5),
    ("<think>a", "r1_zero", False, 0.25),
    ("nothing", "r1_zero", False, 0.0),
    ("<think>a</think> b", "r1", False, 1.0),
    ("<think>a</think> <answer>b</answer>", "r1", False, 1.0),  # answer tags are neither expected nor costly
    ("<think>a b", "r1", False, 0.5),
    ("<think>a</think> b </think>", "r1", False, 0.5),
    ("a</think> <answer>b</answer>", "r1_zero", True, 1.0),
    ("a</think> <answer>b", "r1_zero", True, 2 / 3),
    ("<think>a</think> <answer>b</answer>", "r1_zero", True, 2 / 3),  # a second opener costs a share
    ("a</think> b", "r1", True, 1.0),
    ("a b", "r1", True, 0.0),
    ("<think>a</think> b", "r1", True, 0.0),
])
def test_tag_count_partial_credit(text, mode, prefilled, score):
    verdict = tag_count_reward(text, mode, prefilled)
    assert verdict.status is Status.ok
    assert verdict.score == pytest.approx(score)
    assert (verdict.reason is None) == (score == 1.0)


def test_tag_count_details_name_missing_and_duplicated_tags():
    verdict = tag_count_reward("<think>a</think><think>b</think> 42</answer>", "r1_zero")
    assert verdict.score == pytest.approx(0.25)
    assert verdict.details["counts"] == {"<think>": 2, "</think>": 2, "<answer>": 0, "</answer>": 1}
    assert verdict.details["missing"] == ["<answer>"]
    assert verdict.details["duplicated"] == {"<think>": 2, "</think>": 2}
    assert verdict.reason == "tags not present exactly once: missing <answer>, <think>×2, </think>×2"

    prefilled = tag_count_reward("<think>a</think> <answer>b</answer>", "r1_zero", prefilled_think=True)
    assert prefilled.details["duplicated"] == {"<think>": 2}  # the prompt's opener and the completion's
    assert prefilled.details["missing"] == []


def test_a_perfect_format_has_full_tag_count_but_not_conversely():
    good = "<think>a</think> <answer>b</answer>"
    assert format_reward(good).score == tag_count_reward(good).score == 1.0
    swapped = "<answer>b</answer> <think>a</think>"  # every tag once, wrong order
    assert tag_count_reward(swapped).score == 1.0 and format_reward(swapped).score == 0.0


HUGE = [  # (text, mode, prefilled, expected format score): ~400k characters each
    ("<think>" + "</think><answer>" * 25_000 + "x" * 200_000, "r1_zero", False, 0.0),
    ("<think>" * 57_000, "r1", False, 0.0),
    ("</think>" * 50_000, "r1", True, 0.0),
    ("<think><answer>" * 26_000 + "</answer></think>" * 1, "r1_zero", False, 0.0),
    ("<think>" + "<" * 400_000 + "</think> <answer>1</answer>", "r1_zero", False, 1.0),
    ("<think>" + "a" * 400_000 + "</think><answer>1</answer>", "r1_zero", False, 1.0),
    ("<think>" + "a </think" * 44_000 + "</think>" + " <answer" * 50_000, "r1", False, 1.0),
    ("x" * 400_000 + "</think> <answer>1</answer>", "r1_zero", True, 1.0),
    (" " * 400_000 + "<think>a</think> b", "r1", False, 1.0),
]


@pytest.mark.parametrize(("text", "mode", "prefilled", "score"), HUGE)
def test_adversarial_huge_inputs_are_graded(text, mode, prefilled, score):
    assert format_reward(text, mode, prefilled).score == score
    assert 0.0 <= tag_count_reward(text, mode, prefilled).score <= 1.0


# Characters that show nothing (issue 17, item 6): format (Cf), separators (Z*), controls (Cc), and letters or
# marks drawn as nothing. Each is whitespace for "is there reasoning" and "is there an answer".
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u2061", "\u200e", "\u202e",
             "\U000e0020", "\U000e0001", "\u3164", "\u115f", "\u1160", "\u2800", "\uffa0", "\ufe0f", "\u034f",
             "\x00", "\x7f", "\u00a0", "\u3000", "\u2028", "\u2029"]


@pytest.mark.parametrize("blank", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_an_invisible_think_block_is_empty(blank):
    for mode, rest in (("r1_zero", " <answer>4</answer>"), ("r1", " 4")):
        for block in (blank, blank * 3, f" {blank}\n{blank} "):
            verdict = format_reward(f"<think>{block}</think>{rest}", mode)
            assert verdict.score == 0.0 and verdict.reason == "empty think block", (mode, verdict)
        prefilled = format_reward(f"{blank}\n</think>{rest}", mode, prefilled_think=True)
        assert prefilled.score == 0.0 and prefilled.reason == "empty think block", mode


@pytest.mark.parametrize("blank", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_an_invisible_answer_is_no_answer(blank):
    for mode in ("r1_zero", "r1"):
        verdict = format_reward(f"<think>reason</think> <answer>{blank} {blank}</answer>", mode)
        assert verdict.score == 0.0 and verdict.reason == "empty answer", mode
    verdict = format_reward(f"<think>reason</think>{blank}\n{blank}", "r1")
    assert verdict.score == 0.0 and verdict.reason == "no final answer after </think>"
    assert format_reward(f"reason</think>{blank}", "r1", prefilled_think=True).score == 0.0


@pytest.mark.parametrize("blank", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_invisible_characters_stand_where_whitespace_may(blank):
    text = f"{blank}<think>reason</think>{blank}<answer>4</answer>{blank}"
    assert format_reward(text, "r1_zero").score == 1.0
    assert format_reward(f"{blank}<think>reason</think>{blank}4", "r1").score == 1.0


@pytest.mark.parametrize("blank", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_tag_count_reads_an_invisible_block_as_an_empty_one(blank):
    """tag_count pays for the tags alone (open-r1's shaping), whatever a block holds: an invisible block earns
    what an empty one does, and a tag broken by an invisible character is no tag."""
    for mode in ("r1_zero", "r1"):
        invisible = tag_count_reward(f"<think>{blank}</think> <answer>{blank}</answer>", mode)
        empty = tag_count_reward("<think> </think> <answer> </answer>", mode)
        assert (invisible.score, invisible.details) == (empty.score, empty.details)
    broken = tag_count_reward(f"<think>a</th{blank}ink> <answer>4</answer>", "r1_zero")
    assert broken.score == 0.75 and broken.details["missing"] == ["</think>"]
