"""``combination:*``: two different responses split by ``******``; the prompt repeated first.

``repeat_prompt`` takes the text to repeat from the kwarg ``prompt_to_repeat``; a label without it takes the
item's prompt (the issue's "the prompt is passed to checks that need it"), and without either it is invalid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.registry import Arg, rule


@rule("combination:two_responses")
def two_responses(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    parts = response.split("******")
    if any(not p.strip() for p in parts[1:-1]):
        return False, "an empty response between two ****** separators"
    kept = [p.strip() for p in parts if p.strip()]
    if len(kept) != 2:
        return False, f"found {len(kept)} responses, need 2"
    return kept[0] != kept[1], "two responses" if kept[0] != kept[1] else "the two responses are the same"


@rule("combination:repeat_prompt", needs_prompt=True, prompt_to_repeat=Arg.text)
def repeat_prompt(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    ok = response.strip().lower().startswith(kwargs["prompt_to_repeat"].strip().lower())
    return ok, "starts with the request" if ok else "does not start with the request, word for word"
