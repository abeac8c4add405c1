"""The interface every test kind implements (see :mod:`sandbox.kinds`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sandbox.backends.base import Backend
from sandbox.languages.base import Language, Program
from sandbox.limits import Limits
from sandbox.report import TestReport
from sandbox.sandboxed import Candidate
from sandbox.testcases import TestSuite


@dataclass(frozen=True)
class Context:
    """What a kind's sandboxes and judgements need: the candidate's backend and limits, the item's options."""

    backend: Backend
    limits: Limits
    float_tolerance: float | None = None


class Grader(Protocol):
    """A suite's tests, ready to run: the kind's own sandboxes (a checker's, the test process's) are open."""

    borrowed: tuple[str, ...]  # names the tests took from the candidate (assert-style), for the report

    def run(self, candidate: Candidate, index: int) -> TestReport:
        """Test ``index`` against the built candidate. Raises SessionBroken when a sandbox fails."""
        ...

    def close(self) -> None: ...


class Kind(Protocol):
    name: str

    def program(self, code: str, language: Language, suite: TestSuite) -> Program:
        """What the candidate's sandbox runs; raises :class:`~sandbox.report.Unsupported` when ``language``
        cannot run this kind, BadTests when the tests cannot be run in it."""
        ...

    def count(self, suite: TestSuite) -> int:
        """How many tests the suite has (and the report counts)."""
        ...

    def start(self, suite: TestSuite, context: Context) -> Grader:
        """The suite ready to run; raises BadTests (a checker that does not compile), SessionBroken."""
        ...
