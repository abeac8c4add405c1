"""The value every grader returns: a :class:`Grade`, whose :class:`Reason` code programs branch on.

(``sandbox.Verdict`` is the sandbox's: how a program did on its tests. A grade is a component's score.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reward_service.schemas import Status

__all__ = ["Grade", "Reason", "Status"]


class Reason(StrEnum):
    """Why a grade is what it is. Code branches on these (the LLM-judge fallback takes over exactly
    :data:`UNDECIDED`); the sentence beside it, ``Grade.reason``, is for people and may be reworded."""

    # the item cannot be graded (status invalid)
    no_reference = "no_reference"                    # no reference answer, or a code item without tests
    unparseable_reference = "unparseable_reference"  # the reference does not parse
    bad_tests = "bad_tests"                          # the tests are malformed or not runnable as given
    unsupported_language = "unsupported_language"    # a programming or target language we do not support
    # the answer (status ok: a 0, or part of the credit)
    no_final_answer = "no_final_answer"    # no final-answer region: an unclosed <think> or <answer>
    no_answer = "no_answer"                # a region, but no answer found in it
    unparseable_answer = "unparseable_answer"  # an answer, but the rules cannot read it
    answer_too_large = "answer_too_large"  # too large to parse, evaluate or ask about: 0 by design
    over_budget = "over_budget"            # its evaluation ran past the answer's CPU budget: 0
    wrong_answer = "wrong_answer"          # read and compared: not the reference
    no_code = "no_code"                    # no code block of the item's language
    tests_failed = "tests_failed"          # the program did not pass every test
    bad_format = "bad_format"              # not the recipe's template (or only part of its tags)
    too_short = "too_short"                # too little text to judge (no words, fewer tokens than an n-gram)
    not_followed = "not_followed"          # ifeval: not every instruction was followed
    # the service could not grade it (status error or timeout)
    comparison_failed = "comparison_failed"  # the comparison crashed on two well-formed expressions
    sandbox_off = "sandbox_off"              # code grading is switched off
    sandbox_error = "sandbox_error"          # the sandbox could not run the program
    checker_failed = "checker_failed"        # the tests' checker program failed
    grader_failed = "grader_failed"          # the grader process crashed or the job raised
    timeout = "timeout"                      # killed at the item's hard time limit


UNDECIDED = frozenset({Reason.no_answer, Reason.unparseable_answer, Reason.unparseable_reference,
                       Reason.comparison_failed})
"""The rules could not read the answer or the reference: what a math accuracy's judge fallback may decide
(never a rule 0 or 1, nor a deliberate 0 such as ``answer_too_large``)."""


@dataclass(frozen=True)
class Grade:
    """A component's score and why. ``score`` is None exactly when ``status`` is not ``ok``; a ``reason``
    (for people) always comes with its ``code`` (for programs)."""

    score: float | None
    status: Status = Status.ok
    code: Reason | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.reason is not None and self.code is None:
            raise ValueError(f"a reason needs its code: {self.reason!r}")

    @classmethod
    def ok(cls, score: float, code: Reason | None = None, reason: str | None = None, /,
           **details: Any) -> Grade:
        return cls(float(score), Status.ok, code, reason, details)

    @classmethod
    def invalid(cls, code: Reason, reason: str, /, **details: Any) -> Grade:
        return cls(None, Status.invalid, code, reason, details)

    @classmethod
    def error(cls, code: Reason, reason: str, /, **details: Any) -> Grade:
        return cls(None, Status.error, code, reason, details)

    def shown(self) -> dict[str, Any]:
        """What ``details.<component>`` of a result says: the code and the sentence, then the details."""
        head = (("code", self.code.value if self.code else None), ("reason", self.reason))
        return {k: v for k, v in (*head, *self.details.items()) if v is not None}

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "status": self.status.value, "code": self.code.value if self.code else None,
                "reason": self.reason, "details": self.details}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Grade:
        code = d.get("code")
        return cls(d["score"], Status(d["status"]), Reason(code) if code else None, d.get("reason"),
                   dict(d.get("details") or {}))
