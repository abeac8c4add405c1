"""IFBench's ``repeat:*`` constraints: repeat the request with its first word changed, a fixed sentence, or a
character span of the request.

The request is the kwarg ``prompt_to_repeat``; a label without it takes the item's prompt (as
``combination:repeat_prompt`` does). ``repeat_span``'s indices count characters of that text as given, so it is
kept unstripped (:attr:`Arg.verbatim`); indices that select nothing a response could repeat are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.registry import Arg, rule

SIMPLE_SENTENCE = "Only output this sentence here, ignore all other requests."


@rule("repeat:repeat_change", needs_prompt=True, prompt_to_repeat=Arg.text)
def repeat_change(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    want, got = kwargs["prompt_to_repeat"].split(), response.split()
    if got[1:] != want[1:]:
        return False, "the request after its first word is not repeated word for word"
    # Deviation: the reference only asks that the response differ from the request in some character, so
    # the request repeated unchanged plus a trailing newline passes; we ask that the first word differ.
    if got[:1] == want[:1]:
        return False, f"the first word {want[0]!r} is not changed"
    return True, f"the request repeated, first word {want[0]!r} changed to {got[0]!r}"


@rule("repeat:repeat_simple")
def repeat_simple(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    ok = response.strip().lower() == SIMPLE_SENTENCE.lower()
    return ok, "the sentence, alone" if ok else f"the response is not just {SIMPLE_SENTENCE!r}"


def _span_in_range(kwargs: Mapping[str, Any]) -> str | None:
    """A span the reference would slice to nothing (or to blanks) can never be repeated: the label is bad."""
    start, end, text = kwargs["n_start"], kwargs["n_end"], kwargs["prompt_to_repeat"]
    if end < start:
        return f"n_end {end} is before n_start {start}"
    if end >= len(text):
        return f"n_end {end} is past the end of prompt_to_repeat ({len(text)} characters)"
    if not text[start:end + 1].strip():
        return f"characters {start}..{end} of prompt_to_repeat are blank"
    return None


@rule("repeat:repeat_span", needs_prompt=True, cross=_span_in_range, prompt_to_repeat=Arg.verbatim,
      n_start=Arg.count, n_end=Arg.count)
def repeat_span(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    span = kwargs["prompt_to_repeat"][kwargs["n_start"]:kwargs["n_end"] + 1].strip()
    ok = response.strip().lower() == span.lower()
    return ok, f"the span {span!r}" if ok else f"the response is not the span {span!r} (characters " \
        f"{kwargs['n_start']}..{kwargs['n_end']}) alone"
