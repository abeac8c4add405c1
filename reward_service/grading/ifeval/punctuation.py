"""``punctuation:no_comma``: no ``,`` anywhere (only the ASCII comma, as the reference)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.registry import rule


@rule("punctuation:no_comma")
def no_comma(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = response.count(",")
    return not found, f"found {found} commas" if found else "no comma"
