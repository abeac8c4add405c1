"""Where the final answer is: split a completion into reasoning and final-answer region.

The answer is never taken from the reasoning: with ``<answer>`` tags their (last) content is the region;
else the text after the last ``</think>``; a completion with an unclosed ``<think>`` has no region (it was
cut off mid-thought). A completion with no tags at all is all region (plain CoT models, evals).

What is blank. Every character that shows nothing is whitespace to the graders ("is there reasoning", "is
there an answer"): Unicode's spaces and separators (Zs, Zl, Zp), controls (Cc), format characters (Cf: zero
width space, joiners, word joiner, BOM, bidi marks, tags) and letters and marks drawn as nothing (the Hangul
fillers, the braille blank, variation selectors, the combining grapheme joiner). A think block of a word
joiner is as empty as one of spaces.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from reward_service.schemas import ChatMessage
from reward_service.schemas import completion_text as completion_text  # the one rule, re-exported

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"

RegionSource = Literal["answer_tag", "after_think", "whole", "none"]

_BLANK_CATEGORIES = ("Zs", "Zl", "Zp", "Cc", "Cf")
_DRAWN_AS_NOTHING = ("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
                     + "".join(map(chr, range(0xFE00, 0xFE10))) + "".join(map(chr, range(0xE0100, 0xE01F0))))
# Planes 2-3 hold ideographs and 15-16 private use: no invisible character there (scanning them costs 0.3 s).
_PLANES = (range(0x20000), range(0xE0000, 0xE1000))


def _char_class(codes: list[int]) -> str:
    """A regex character class of ``codes`` (sorted), written as ranges: a class of single characters is
    ~15× slower to match."""
    parts, first = [], 0
    for k, code in enumerate(codes):
        if k + 1 == len(codes) or codes[k + 1] != code + 1:
            last = f"-{re.escape(chr(code))}" if code != codes[first] else ""
            parts.append(re.escape(chr(codes[first])) + last)
            first = k + 1
    return "[" + "".join(parts) + "]"


@lru_cache(maxsize=1)
def _invisible() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a run of characters that show nothing, a run of those that are not whitespace either), from the
    interpreter's Unicode tables: built once per process (~50 ms; the graders' warm-up does it before fork)."""
    codes = [ord(c) for plane in _PLANES for c in map(chr, plane)
             if unicodedata.category(c) in _BLANK_CATEGORIES or c in _DRAWN_AS_NOTHING]
    hidden = [code for code in codes if not chr(code).isspace()]
    return re.compile(f"{_char_class(codes)}*"), re.compile(f"{_char_class(hidden)}+")


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: only whitespace and invisible characters."""
    return _invisible()[0].fullmatch(text) is not None


def lstrip_blank(text: str) -> str:
    """``text`` without the whitespace and invisible characters it starts with."""
    run = _invisible()[0].match(text)
    return text[run.end():] if run else text


def drop_invisible(text: str) -> str:
    """``text`` without its invisible characters other than whitespace: a zero-width space or joiner inside a
    word neither splits it nor makes two words of it, and a Hangul filler is no letter."""
    return _invisible()[1].sub("", text)


@dataclass(frozen=True)
class Split:
    reasoning: str                 # the chain of thought (think block content, or "" when there is none)
    region: str | None             # final-answer region; None when the completion has none
    source: RegionSource
    reason: str | None = None      # why there is no region


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
