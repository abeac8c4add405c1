"""Format rewards: does the completion follow the reasoning template?

Modes:

* ``r1_zero`` — the R1-Zero template: ``<think> … </think> <answer> … </answer>`` and nothing else: one think
  block, then one answer block, only whitespace around and between them, neither empty.
* ``r1`` — R1 style: one ``<think> … </think>`` block first, then a non-empty final answer in free text
  (``<answer>`` tags optional, at most one pair, in order); no further think tags.

``prefilled_think``: the prompt already opened ``<think>`` (chat templates of R1-style models do), so the
completion starts inside the block: it must close it once and must not open another.

Everything is plain string scanning (``str.count``/``find``): linear time on any input, no regex backtracking.
"""

from __future__ import annotations

from typing import Literal

from reward_service.grading.types import Verdict

FormatMode = Literal["r1_zero", "r1"]

THINK, END_THINK, ANSWER, END_ANSWER = "<think>", "</think>", "<answer>", "</answer>"


def _think_block(text: str, prefilled_think: bool) -> tuple[str, str] | str:
    """(think content, rest after </think>) or the reason the think block is malformed."""
    opens, closes = text.count(THINK), text.count(END_THINK)
    if prefilled_think:
        if opens:
            return "opens <think> although the prompt already did"
        if closes != 1:
            return f"expected exactly one </think>, found {closes}"
        content, rest = text.split(END_THINK, 1)
    else:
        if opens != 1 or closes != 1:
            return f"expected exactly one <think>…</think> block, found {opens} <think> and {closes} </think>"
        stripped = text.lstrip()
        if not stripped.startswith(THINK):
            return "text before <think>"
        content, rest = stripped[len(THINK):].split(END_THINK, 1)
        if END_THINK in content or THINK in rest:
            return "think tags out of order"
    if not content.strip():
        return "empty think block"
    return content, rest


def _check(text: str, mode: FormatMode, prefilled_think: bool) -> str | None:
    """None when ``text`` follows the template, else the reason it does not."""
    block = _think_block(text, prefilled_think)
    if isinstance(block, str):
        return block
    _, rest = block
    n_open, n_close = rest.count(ANSWER), rest.count(END_ANSWER)
    if text.count(ANSWER) != n_open or text.count(END_ANSWER) != n_close:
        return "answer tags inside the think block"
    if mode == "r1_zero":
        if n_open != 1 or n_close != 1:
            return f"expected exactly one <answer>…</answer> block, found {n_open} <answer> and {n_close} </answer>"
        before, after_open = rest.split(ANSWER, 1)
        if before.strip():
            return "text between </think> and <answer>"
        if END_ANSWER not in after_open:
            return "</answer> before <answer>"
        answer, tail = after_open.split(END_ANSWER, 1)
        if tail.strip():
            return "text after </answer>"
        return None if answer.strip() else "empty answer"
    if n_open or n_close:
        if n_open != 1 or n_close != 1 or rest.find(ANSWER) > rest.find(END_ANSWER):
            return "unbalanced <answer> tags"
    return None if rest.replace(ANSWER, "").replace(END_ANSWER, "").strip() else "no final answer after </think>"


def format_reward(text: str, mode: FormatMode = "r1_zero", prefilled_think: bool = False) -> Verdict:
    """1.0 when ``text`` follows the template of ``mode``, else 0.0 with the reason."""
    reason = _check(text, mode, prefilled_think)
    return Verdict.ok(1.0) if reason is None else Verdict.ok(0.0, reason=reason)


def expected_tags(mode: FormatMode, prefilled_think: bool) -> list[str]:
    tags = [THINK, END_THINK] + ([ANSWER, END_ANSWER] if mode == "r1_zero" else [])
    return tags[1:] if prefilled_think else tags


def tag_count_reward(text: str, mode: FormatMode = "r1_zero", prefilled_think: bool = False) -> Verdict:
    """Partial credit (open-r1's tag_count): an equal share for each expected tag present exactly once."""
    tags = expected_tags(mode, prefilled_think)
    counts = {tag: text.count(tag) for tag in tags}
    bad = {tag: n for tag, n in counts.items() if n != 1}
    earned = len(tags) - len(bad)
    if prefilled_think and THINK in text:  # the prompt opened the block: a second opener costs a share
        bad[THINK] = text.count(THINK)
        earned = max(0, earned - 1)
    score = earned / len(tags)
    reason = None if not bad else "tags not present exactly once: " + ", ".join(f"{t}×{n}" for t, n in bad.items())
    return Verdict.ok(score, reason=reason, counts=counts)
