"""The value every grader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reward_service.schemas import Status

__all__ = ["Status", "Verdict"]


@dataclass(frozen=True)
class Verdict:
    """A component's score and why. ``score`` is None exactly when ``status`` is not ``ok``."""

    score: float | None
    status: Status = Status.ok
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def ok(cls, score: float, reason: str | None = None, **details: Any) -> Verdict:
        return cls(float(score), Status.ok, reason, details)

    @classmethod
    def invalid(cls, reason: str, **details: Any) -> Verdict:
        return cls(None, Status.invalid, reason, details)

    @classmethod
    def error(cls, reason: str, **details: Any) -> Verdict:
        return cls(None, Status.error, reason, details)

    @classmethod
    def timeout(cls, reason: str, **details: Any) -> Verdict:
        return cls(None, Status.timeout, reason, details)

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "status": self.status.value, "reason": self.reason, "details": self.details}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        return cls(d["score"], Status(d["status"]), d.get("reason"), dict(d.get("details") or {}))
