"""STUB — replaced by the Countdown grader (owner: trainer helper)."""
from __future__ import annotations

from reward_service.grading.types import Verdict


def grade_countdown(region: str, reference: str) -> Verdict:
    raise NotImplementedError
