"""``startend:*``: the closing phrase; the whole response in double quotes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.registry import Arg, rule


@rule("startend:end_checker", end_phrase=Arg.text)
def end_checker(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    ok = response.strip().strip('"').lower().endswith(kwargs["end_phrase"].strip().lower())
    return ok, "ends with the phrase" if ok else f"does not end with {kwargs['end_phrase']!r}"


@rule("startend:quotation")
def quotation(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    text = response.strip()
    ok = len(text) > 1 and text[0] == '"' and text[-1] == '"'
    return ok, "wrapped in double quotes" if ok else "not wrapped in double quotes"
