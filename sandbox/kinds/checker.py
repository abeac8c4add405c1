"""The ``checker`` kind: stdin/stdout tests whose outputs a checker program judges (the convention, and why it
runs where it does: :mod:`sandbox.checkers`). The checker gets a sandbox of its own, built before the candidate
runs (a broken checker costs no candidate run; its time is not the candidate's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox import checkers
from sandbox.backends.base import SessionBroken
from sandbox.kinds.base import Context
from sandbox.kinds.compared import PerCase
from sandbox.languages.base import Language, Program
from sandbox.report import DETAIL_BYTES, TestReport, Verdict, clip
from sandbox.sandboxed import Sandboxed
from sandbox.testcases import BadTests, TestCase, TestSuite

if TYPE_CHECKING:
    from sandbox.runner import Answer


class ProgramCheck:
    """A checker program in its sandbox, built: one run per output to check. A sandbox that fails is a
    sandbox error, as the candidate's is (``checker: ...`` while it is being built)."""

    _VERDICTS = {checkers.ACCEPTED: Verdict.accepted, checkers.WRONG: Verdict.wrong_answer,
                 checkers.PARTIAL: Verdict.partial, checkers.FAILED: Verdict.checker_error}

    def __init__(self, checker: checkers.Checker, context: Context) -> None:
        self.limits = context.limits
        try:
            self.sandboxed = Sandboxed(context.backend, context.limits)
        except SessionBroken as exc:
            raise SessionBroken(f"checker: {exc}") from exc
        try:
            built = self.sandboxed.build(checkers.program(checker))
        except SessionBroken as exc:
            self.close()
            raise SessionBroken(f"checker: {exc}") from exc
        except BaseException:
            self.close()
            raise
        if not built.ok:
            self.close()
            if built.answer.get("timed_out"):  # the machine's load as much as the checker: not the data's fault
                raise SessionBroken(f"checker: the checker's {built.message(self.limits)}")
            raise BadTests(f"the checker does not compile: {built.message(self.limits)}")

    def __call__(self, ran: Answer, case: TestCase) -> TestReport:
        seen = self._check(case, ran.get("stdout", ""))
        if seen.status == checkers.FAILED and self._check(case, case.expected).status == checkers.ACCEPTED:
            # It fails on this output but accepts the answer: the output broke it. A 0, not a null reward a
            # policy could learn to earn by crashing a fragile checker.
            return TestReport(Verdict.wrong_answer, detail=clip(f"the checker failed on this output (it accepts "
                                                                f"the answer): {seen.message}", DETAIL_BYTES))
        return TestReport(self._VERDICTS[seen.status], score=seen.score,
                          detail=clip(seen.message, DETAIL_BYTES) or None)

    def _check(self, case: TestCase, output: str) -> checkers.Outcome:
        wall = self.limits.time_s
        return checkers.outcome(self.sandboxed.run(checkers.stdin(case.stdin, output, case.expected), wall), wall)

    def close(self) -> None:
        self.sandboxed.close()


class CheckerProgram:
    name = "checker"

    def program(self, code: str, language: Language, suite: TestSuite) -> Program:
        return language.program(code)

    def count(self, suite: TestSuite) -> int:
        return len(suite.cases)

    def start(self, suite: TestSuite, context: Context) -> PerCase:
        assert suite.checker is not None
        check = ProgramCheck(suite.checker, context)
        return PerCase(suite.cases, check, check.close)


CHECKER = CheckerProgram()
