"""The kinds judged on the host, one run of the candidate per case: stdin/stdout (``stdio``: tokens, or a
built-in checker of :mod:`sandbox.checkers`) and function calls (``function``: a harness writes the returned
value as JSON, :mod:`sandbox.harness`). The expected output never enters the sandbox: it is only ever looked
at here (or by a checker program: :mod:`sandbox.kinds.checker` brings its own verdict to :class:`PerCase`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sandbox import checkers
from sandbox.compare import parse_result, same_value
from sandbox.harness import function_program
from sandbox.kinds.base import Context
from sandbox.languages.base import Language, Program
from sandbox.report import TestReport, Unsupported, Verdict, process_failure, raised, timing
from sandbox.sandboxed import Candidate
from sandbox.served import Served
from sandbox.testcases import TestCase, TestSuite

if TYPE_CHECKING:
    from sandbox.runner import Answer

Judge = Callable[["Answer", TestCase], TestReport]  # the verdict on a run that ended normally (no timing)


def graded(ran: Answer, case: TestCase, judge: Judge) -> TestReport:
    """A case's report from the runner's answer: the program's own failure, else ``judge``'s verdict."""
    return process_failure(ran) or replace(judge(ran, case), **timing(ran))


def text_judge(same: Callable[[str, str], bool]) -> Judge:
    """Stdout compared with the expected text by ``same`` (got, want)."""
    return lambda ran, case: TestReport(Verdict.accepted if same(ran.get("stdout", ""), case.expected)
                                        else Verdict.wrong_answer)


def returned(value: object, case: TestCase, tolerance: float | None) -> Verdict:
    """A returned JSON value against the case's expected one."""
    want = case.expected
    good = same_value(value, want, tolerance) or (
        case.apps_style and isinstance(want, list) and len(want) == 1 and same_value(value, want[0], tolerance))
    return Verdict.accepted if good else Verdict.wrong_answer


def call_judge(tolerance: float | None) -> Judge:
    """The returned value (the harness's result file) compared with the expected one as JSON values."""
    def judge(ran: Answer, case: TestCase) -> TestReport:
        ok, value = parse_result(ran.get("result"))
        if not ok:
            return TestReport(Verdict.runtime_error, detail="the function returned nothing JSON can hold")
        return TestReport(returned(value, case, tolerance))
    return judge


class PerCase:
    """A grader that runs the candidate once per case and judges each normal ending with ``judge``. The time
    judging takes is not the candidate's; ``close`` ends what the judge holds (a checker's sandbox)."""

    borrowed: tuple[str, ...] = ()

    def __init__(self, cases: Sequence[TestCase], judge: Judge, close: Callable[[], None] = lambda: None) -> None:
        self.cases, self.judge, self._close = cases, judge, close

    def run(self, candidate: Candidate, index: int) -> TestReport:
        case = self.cases[index]
        ran = candidate.run(case.stdin)
        if isinstance(ran, TestReport):
            return ran
        with candidate.budget.paused():
            return graded(ran, case, self.judge)

    def close(self) -> None:
        self._close()


class Calls(PerCase):
    """Function calls: a run per case, or, for a harness that serves every case in one process
    (``Program.served``: Java, JavaScript), a request per case; after a case that did not end cleanly
    (it raised, timed out, left a thread running) the next case gets a fresh process."""

    def __init__(self, cases: Sequence[TestCase], tolerance: float | None) -> None:
        super().__init__(cases, call_judge(tolerance))
        self.tolerance = tolerance
        self.served: Served | None = None

    def run(self, candidate: Candidate, index: int) -> TestReport:
        if not candidate.program.served:
            return super().run(candidate, index)
        if self.served is None:
            self.served = candidate.running = Served(candidate)
        served = self.served
        case = self.cases[index]
        reply = served.ask(case.stdin)
        if isinstance(reply, TestReport):
            return reply
        answer = reply.value
        if not (isinstance(answer, list) and len(answer) == 3 and answer[0] in ("value", "raised")):
            served.reset()
            return TestReport(Verdict.runtime_error, time_s=reply.time_s, detail="the harness's answer is malformed")
        if answer[0] == "raised" or answer[2] is not True:
            served.reset()  # the next case starts from nothing this one left
        if answer[0] == "raised":
            return raised(str(answer[1]), reply.time_s)
        with candidate.budget.paused():
            return TestReport(returned(answer[1], case, self.tolerance), time_s=reply.time_s)


class StdinStdout:
    name = "stdio"

    def program(self, code: str, language: Language, suite: TestSuite) -> Program:
        return language.program(code)

    def count(self, suite: TestSuite) -> int:
        return len(suite.cases)

    def start(self, suite: TestSuite, context: Context) -> PerCase:
        return PerCase(suite.cases, text_judge(checkers.builtin(suite.checker, context.float_tolerance)))


class FunctionCalls:
    name = "function"

    def program(self, code: str, language: Language, suite: TestSuite) -> Program:
        program = function_program(language, code, suite)
        if program is None:
            raise Unsupported(f"{language.name} does not support function-call tests; use stdin/stdout tests")
        return program

    def count(self, suite: TestSuite) -> int:
        return len(suite.cases)

    def start(self, suite: TestSuite, context: Context) -> Calls:
        return Calls(suite.cases, context.float_tolerance)


STDIO, FUNCTION = StdinStdout(), FunctionCalls()
