"""Grade a final answer against an IFEval label: every instruction checked, strict and loose."""

from __future__ import annotations

from reward_service.grading.ifeval.labels import LabelError, parse_label
from reward_service.grading.ifeval.registry import CHECKERS
from reward_service.grading.types import Grade, Reason

__all__ = ["grade_ifeval"]


def grade_ifeval(region: str, label: str, prompt: str | None = None, *, partial: bool = False,
                 loose: bool = False) -> Grade:
    """1.0 when every instruction is followed (IFEval's prompt-level accuracy), else 0.0; with ``partial``
    the fraction followed (instruction level); with ``loose`` IFEval's loose verdicts count."""
    try:
        instructions = parse_label(label, prompt)
    except LabelError as exc:
        return Grade.invalid(Reason.unparseable_reference, str(exc))
    shown, followed = [], 0
    for ins in instructions:
        strict, lenient, why = CHECKERS[ins.id](region, ins.kwargs, prompt)
        followed += lenient if loose else strict
        shown.append({"id": ins.id, "kwargs": ins.kwargs, "strict": strict, "loose": lenient, "why": why})
    total = len(instructions)
    score = followed / total if partial else float(followed == total)
    mode = "loose" if loose else "strict"
    if followed == total:
        return Grade.ok(score, None, None, instructions=shown, followed=followed, total=total, mode=mode)
    return Grade.ok(score, Reason.not_followed, f"followed {followed} of {total} instructions ({mode})",
                    instructions=shown, followed=followed, total=total, mode=mode)
