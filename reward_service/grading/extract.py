"""Where the final answer is: split a completion into reasoning and final-answer region.

The answer is never taken from the reasoning: with ``<answer>`` tags their (last) content is the region;
else the text after the last ``</think>``; a completion with an unclosed ``<think>`` has no region (it was
cut off mid-thought). A completion with no tags at all is all region (plain CoT models, evals).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from reward_service.schemas import ChatMessage

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"

RegionSource = Literal["answer_tag", "after_think", "whole", "none"]


@dataclass(frozen=True)
class Split:
    reasoning: str                 # the chain of thought (think block content, or "" when there is none)
    region: str | None             # final-answer region; None when the completion has none
    source: RegionSource
    reason: str | None = None      # why there is no region


def completion_text(completion: str | list[ChatMessage] | list[dict]) -> str:
    """The text to grade: a string as is, or the last assistant message of a chat."""
    if isinstance(completion, str):
        return completion
    for message in reversed(completion):
        role = message["role"] if isinstance(message, dict) else message.role
        if role == "assistant":
            return message["content"] if isinstance(message, dict) else message.content
    return ""


def prompt_text(prompt: str | list[ChatMessage] | list[dict] | None) -> str:
    """The prompt as one string (chat messages joined), for language detection and template checks."""
    if prompt is None:
        return ""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(m["content"] if isinstance(m, dict) else m.content for m in prompt)


def prompt_prefills_think(prompt: str | list[ChatMessage] | list[dict] | None) -> bool:
    """True when the prompt ends by opening ``<think>`` (chat templates of R1-style models do)."""
    if prompt is None:
        return False
    if isinstance(prompt, str):
        return prompt.rstrip().endswith(_THINK_OPEN)
    last = prompt[-1] if prompt else None
    if last is None:
        return False
    role = last["role"] if isinstance(last, dict) else last.role
    content = last["content"] if isinstance(last, dict) else last.content
    return role == "assistant" and content.rstrip().endswith(_THINK_OPEN)


def split_completion(text: str, prefilled_think: bool = False) -> Split:
    """Split ``text`` into reasoning and final-answer region (see the module docstring)."""
    close = text.rfind(_THINK_CLOSE)
    opened = prefilled_think or _THINK_OPEN in text
    if close >= 0:
        start = text.find(_THINK_OPEN)
        reasoning = text[start + len(_THINK_OPEN):close] if 0 <= start < close else text[:close]
        tail = text[close + len(_THINK_CLOSE):]
    elif opened:
        body = text.split(_THINK_OPEN, 1)[-1]
        return Split(body, None, "none", "no final answer: <think> was never closed")
    else:
        reasoning, tail = "", text
    answers = _ANSWER.findall(tail)
    if answers:
        return Split(reasoning, answers[-1], "answer_tag")
    if "<answer>" in tail:
        return Split(reasoning, None, "none", "no final answer: <answer> was never closed")
    if close >= 0:
        return Split(reasoning, tail, "after_think")
    return Split(reasoning, tail, "whole")
