"""STUB — replaced by the language-consistency grader (owner: format/language helper)."""
from __future__ import annotations

from reward_service.grading.types import Verdict


def language_consistency(text: str, target: str) -> Verdict:
    raise NotImplementedError


def detect_language(text: str) -> str | None:
    raise NotImplementedError


def warmup() -> None:
    """Load the language models once (called in each grader process before it serves)."""
