"""The answer's time budget: a grader tells its pool where the time starts to depend on the answer alone.

A grader process runs one job at a time under the item's hard wall-clock limit. Until the reference is parsed
and evaluated, a job that runs out of time is ours (``timeout``: the item cannot be graded). After that point
the time spent is the answer's: an answer that takes sympy hours is the policy's doing, and its verdict is a
0 with the reason, not a null reward that drops the item from its group. :func:`answer_phase` marks that
point and says what the verdict is then; the pool allows the answer its budget from there, kills the process
on expiry and answers that verdict. Outside a grader pool (grading called directly, the CLI) it does nothing.

This module is the whole interface between the graders and the pool: the pool's worker process arms it
around each job (:func:`arm`), the graders only call :func:`answer_phase`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reward_service.grading.types import Grade

__all__ = ["answer_phase", "arm"]

_report: Callable[[dict[str, Any]], None] | None = None
_seconds: float | None = None


def arm(report: Callable[[dict[str, Any]], None] | None, seconds: float | None) -> None:
    """For the pool's worker process: send a fallback verdict with ``report`` during the next job, whose answer
    has ``seconds`` (None, or no ``report``: the hook is off and the item's limit alone applies)."""
    global _report, _seconds
    _report, _seconds = (report, seconds) if report is not None and seconds else (None, None)


def answer_phase(fallback: Callable[[float], Grade]) -> None:
    """From here on, time spent is the answer's: if the job is killed for time after this call, its verdict is
    ``fallback(budget seconds)`` (called now, and only when a budget applies)."""
    if _report is not None and _seconds is not None:
        _report(fallback(_seconds).to_dict())
