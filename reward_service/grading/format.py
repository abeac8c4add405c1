"""STUB — replaced by the format grader (owner: format/language helper)."""
from __future__ import annotations

from typing import Literal

from reward_service.grading.types import Verdict

FormatMode = Literal["r1_zero", "r1"]


def format_reward(text: str, mode: FormatMode = "r1_zero", prefilled_think: bool = False) -> Verdict:
    raise NotImplementedError


def tag_count_reward(text: str, mode: FormatMode = "r1_zero", prefilled_think: bool = False) -> Verdict:
    raise NotImplementedError
