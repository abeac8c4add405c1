"""Format rewards: does the completion follow the reasoning template?

Modes:

* ``r1_zero`` — the R1-Zero template ``<think> … </think> <answer> … </answer>`` and nothing else: one think
  block, then one answer block, only whitespace before, between and after them, neither block empty.
* ``r1`` — R1 style: one non-empty ``<think> … </think>`` block first (only whitespace before it), then a
  non-empty final answer in free text. ``<answer>`` tags are optional; when present: one pair, in order,
  not empty. No think tags after the block.

In both modes ``<answer>`` tags inside the think block fail (a nested block), as do a second ``<think>`` or
``</think>`` anywhere, and a think block that is never closed (a truncated completion).

``prefilled_think``: the prompt already opened ``<think>`` (chat templates of R1-style models do), so the
completion starts inside the block: it must close it exactly once and must not open another.

"Whitespace" and "empty" mean: nothing a reader can see. Zero-width spaces and joiners, the word joiner, a
BOM, the Hangul fillers, the braille blank and every other Unicode format (Cf), separator (Z*) or control
(Cc) character count as whitespace (:func:`extract.is_blank`): a think block holding only a word joiner is
empty, as one of spaces is.

Tags are matched exactly (lower case, no attributes or inner spaces). Everything is plain string scanning
(``str.count``/``find``/``split``, and one character class for what is blank): linear time on any input, no
backtracking.
"""

from __future__ import annotations

from typing import Literal

from reward_service.grading.extract import is_blank, lstrip_blank
from reward_service.grading.types import Grade, Reason

__all__ = ["FormatMode", "expected_tags", "format_reward", "tag_count_reward"]

FormatMode = Literal["r1_zero", "r1"]

THINK, END_THINK, ANSWER, END_ANSWER = "<think>", "</think>", "<answer>", "</answer>"


def _think_block(text: str, prefilled_think: bool) -> tuple[str, str] | str:
    """(think content, rest after ``</think>``), or the reason the think block is malformed."""
    opens, closes = text.count(THINK), text.count(END_THINK)
    if prefilled_think:
        if opens:
            return f"the prompt already opened <think>, but the completion opens it again ({opens}×)"
        if closes != 1:
            return f"expected exactly one </think>, found {closes}" + (" (truncated?)" if not closes else "")
        content, rest = text.split(END_THINK, 1)
    else:
        if opens != 1 or closes != 1:
            truncated = " (truncated?)" if opens and not closes else ""
            return f"expected exactly one <think>…</think> block, found {opens} <think> and {closes} </think>" \
                + truncated
        body = lstrip_blank(text)
        if not body.startswith(THINK):
            return "text before <think>" if text.find(THINK) < text.find(END_THINK) else "</think> before <think>"
        content, rest = body[len(THINK):].split(END_THINK, 1)
    if ANSWER in content or END_ANSWER in content:
        return "answer tags inside the think block"
    if is_blank(content):
        return "empty think block"
    return content, rest


def _answer_problem(rest: str, mode: FormatMode) -> str | None:
    """Why the part after ``</think>`` is not a valid final answer for ``mode``; None when it is."""
    n_open, n_close = rest.count(ANSWER), rest.count(END_ANSWER)
    if mode == "r1_zero" and (n_open, n_close) != (1, 1):
        return f"expected exactly one <answer>…</answer> block, found {n_open} <answer> and {n_close} </answer>"
    if n_open == n_close == 0:  # r1: free text
        return "no final answer after </think>" if is_blank(rest) else None
    if (n_open, n_close) != (1, 1):
        return f"expected at most one <answer>…</answer> pair, found {n_open} <answer> and {n_close} </answer>"
    before, _, after_open = rest.partition(ANSWER)
    if END_ANSWER in before:
        return "</answer> before <answer>"
    answer, _, tail = after_open.partition(END_ANSWER)
    if mode == "r1_zero" and not is_blank(before):
        return "text between </think> and <answer>"
    if mode == "r1_zero" and not is_blank(tail):
        return "text after </answer>"
    return "empty answer" if is_blank(answer) else None


def _check(text: str, mode: FormatMode, prefilled_think: bool) -> str | None:
    """None when ``text`` follows the template of ``mode``, else the reason it does not."""
    if mode not in ("r1_zero", "r1"):
        raise ValueError(f"unknown format mode {mode!r}")
    block = _think_block(text, prefilled_think)
    if isinstance(block, str):
        return block
    return _answer_problem(block[1], mode)


def format_reward(text: str, mode: FormatMode = "r1_zero", prefilled_think: bool = False) -> Grade:
    """1.0 when ``text`` follows the template of ``mode``, else 0.0 with the reason."""
    reason = _check(text, mode, prefilled_think)
    return Grade.ok(1.0) if reason is None else Grade.ok(0.0, Reason.bad_format, reason)


def expected_tags(mode: FormatMode, prefilled_think: bool = False) -> list[str]:
    """The tags the completion of ``mode`` must contain once each (the opener not when the prompt opened it)."""
    tags = [THINK, END_THINK] + ([ANSWER, END_ANSWER] if mode == "r1_zero" else [])
    return tags[1:] if prefilled_think else tags


def tag_count_reward(text: str, mode: FormatMode = "r1_zero", prefilled_think: bool = False) -> Grade:
    """Partial credit (open-r1's tag_count): an equal share for each expected tag present exactly once.

    With ``prefilled_think`` a ``<think>`` in the completion opens a second block: it costs one share.
    Details: ``counts`` of the expected tags, ``missing`` and ``duplicated`` tags (the latter with counts).
    """
    tags = expected_tags(mode, prefilled_think)
    counts = {tag: text.count(tag) for tag in tags}
    missing = [tag for tag, n in counts.items() if n == 0]
    duplicated = {tag: n for tag, n in counts.items() if n > 1}
    earned = len(tags) - len(missing) - len(duplicated)
    stray = text.count(THINK) if prefilled_think else 0
    if stray:
        duplicated[THINK] = stray + 1  # the prompt's opener and the completion's
        earned = max(0, earned - 1)
    problems = [f"missing {tag}" for tag in missing] + [f"{tag}×{n}" for tag, n in duplicated.items()]
    reason = "tags not present exactly once: " + ", ".join(problems) if problems else None
    return Grade.ok(earned / len(tags), Reason.bad_format if reason else None, reason, counts=counts, missing=missing,
                    duplicated=duplicated)
