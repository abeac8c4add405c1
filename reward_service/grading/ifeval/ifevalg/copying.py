"""``copy:*`` and ``new:copy_span_idx``: repeat the request (once, N times, a span of it) or a phrase, varied.

The text to copy is always the kwarg ``prompt_to_repeat``, never the item's prompt: the prompt also holds the
instruction sentence that must not be copied, and the reference raises when the kwarg is unset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.registry import Arg, rule


def _same(text: str, wanted: str) -> bool:
    return text.strip().lower() == wanted.strip().lower()


@rule("copy:copy", prompt_to_repeat=Arg.text)
def copy(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    ok = _same(response, kwargs["prompt_to_repeat"])
    return ok, "the request copied verbatim" if ok else "not the request, verbatim and alone"


@rule("copy:copying_simple", prompt_to_repeat=Arg.text)
def copying_simple(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    return copy(response, kwargs, prompt)


@rule("copy:copying_multiple", prompt_to_repeat=Arg.text, N=Arg.positive)
def copying_multiple(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    parts, need = response.split("******"), kwargs["N"]
    if len(parts) != need:
        return False, f"found {len(parts)} parts split by ******, need {need}"
    copies = sum(_same(part, kwargs["prompt_to_repeat"]) for part in parts)
    return copies == need, f"{copies} of {need} parts are the request verbatim"


def _span(kwargs: Mapping[str, Any]) -> str:
    return str(kwargs["prompt_to_repeat"][kwargs["n_start"]:kwargs["n_end"]])


def _span_not_empty(kwargs: Mapping[str, Any]) -> str | None:
    if not _span(kwargs).strip():
        span = f"{kwargs['n_start']}:{kwargs['n_end']}"
        return f"characters {span} of prompt_to_repeat are empty: never followed"
    return None


# The reference draws n_start and n_end at random when they are 0 or unset: both are required and positive.
# The span is [n_start:n_end] of the text as given (end excluded), as the reference slices it.
@rule("new:copy_span_idx", cross=_span_not_empty, prompt_to_repeat=Arg.verbatim, n_start=Arg.positive,
      n_end=Arg.positive)
def copy_span_idx(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    ok = _same(response, _span(kwargs))
    return ok, "the span copied" if ok else f"not the span {_span(kwargs).strip()[:80]!r}, verbatim and alone"


def _phrase_matches(response: str, words: list[str]) -> list[list[str]]:
    # the reference's regex, with the first and last word as literal text (theirs compiles them as patterns)
    pattern = rf"{re.escape(words[0])} .*? {re.escape(words[-1])}"
    return [found.split() for found in re.findall(pattern, response)]


@rule("copy:repeat_phrase", phrase=Arg.text, small_n=Arg.positive)
def repeat_phrase(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    words, need = kwargs["phrase"].split(), kwargs["small_n"]
    found = _phrase_matches(response, words)
    if len(found) != need:
        return False, f"found {len(found)} phrases from {words[0]!r} to {words[-1]!r}, need {need}"
    for phrase in found:
        same_length = len(phrase) == len(words)
        changed = sum(a != b for a, b in zip(phrase, words, strict=False)) if same_length else -1
        if changed != 1:
            return False, f"{' '.join(phrase)!r} does not change exactly one word of the phrase"
    return True, f"{need} phrases, each with one word changed"
