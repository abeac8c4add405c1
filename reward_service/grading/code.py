"""STUB — replaced by the sandbox bridge (owner: sandbox helper)."""
from __future__ import annotations

from typing import Any

from reward_service.grading.types import Verdict
from reward_service.schemas import CodeLimits


def grade_code(region: str, tests: Any, language: str | None, limits: CodeLimits | None = None, *,
               partial: bool = False, backend: str = "auto") -> Verdict:
    return Verdict.error("code grading is not available yet: the sandbox has not landed")
