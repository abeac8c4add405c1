"""``language:response_language``: langdetect's language of the whole response (seeded: see :mod:`.text`).

As the reference: text langdetect finds no features in (digits, punctuation) counts as followed. ``zh``
matches langdetect's ``zh-cn`` and ``zh-tw`` (the reference compares ``zh`` to those and never matches).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.registry import Arg, rule
from reward_service.grading.ifeval.text import detect_language


def same_language(detected: str | None, wanted: str) -> bool:
    return detected is None or detected == wanted or (wanted == "zh" and detected.startswith("zh-"))


@rule("language:response_language", language=Arg.language)
def response_language(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    detected = detect_language(response)
    return same_language(detected, kwargs["language"]), f"detected {detected or 'no language'}"
