"""Judge one submission: the suite's kind chosen once, its own sandboxes readied, the candidate built in its
sandbox, each test run by the kind in turn, one report. What a kind does is in :mod:`sandbox.kinds`."""

from __future__ import annotations

from sandbox.backends.base import Backend, SessionBroken
from sandbox.kinds import Context, Grader, kind_of
from sandbox.languages import Language
from sandbox.languages.base import Program
from sandbox.limits import Limits
from sandbox.report import Report, TestReport, Verdict, sandbox_error, summary
from sandbox.sandboxed import Budget, Candidate, Sandboxed
from sandbox.testcases import TestSuite

DEFAULT_LIMITS = Limits()


def judge(code: str, language: Language, suite: TestSuite, backend: Backend, limits: Limits = DEFAULT_LIMITS, *,
          stop_on_failure: bool = True, float_tolerance: float | None = None) -> Report:
    """Run ``code`` against ``suite``. Raises Unsupported, BadTests (tests this language cannot run,
    a checker that does not compile) and, when the backend cannot start a sandbox at all,
    :class:`SandboxUnavailable`; a sandbox that fails mid-way gives ``sandbox_error``."""
    kind = kind_of(suite)
    program = kind.program(code, language, suite)
    total = kind.count(suite)
    try:
        grader = kind.start(suite, Context(backend, limits, float_tolerance))  # before the candidate: its time
    except SessionBroken as exc:                                              # is not the candidate's
        return sandbox_error(str(exc), total, backend.name)
    try:
        return _run(program, grader, total, backend, limits, stop_on_failure)
    finally:
        grader.close()


def _run(program: Program, grader: Grader, total: int, backend: Backend, limits: Limits,
         stop_on_failure: bool) -> Report:
    """The candidate built in a sandbox of its own, then each test until one stops the rest."""
    budget = Budget(limits)
    try:
        sandboxed = Sandboxed(backend, limits)
    except SessionBroken as exc:
        return sandbox_error(str(exc), total, backend.name)
    candidate: Candidate | None = None
    try:
        built = sandboxed.build(program)
        if not built.ok:
            return Report(Verdict.compile_error, 0, total, (TestReport(Verdict.compile_error),) * total,
                          built.message(limits), backend.name, built.cached)
        candidate = Candidate(sandboxed, budget, program)
        reports: list[TestReport] = []
        for index in range(total):
            reports.append(grader.run(candidate, index))
            verdict = reports[-1].verdict
            if candidate.broken or verdict is Verdict.checker_error or (
                    stop_on_failure and verdict is not Verdict.accepted):
                break
    except SessionBroken as exc:
        return sandbox_error(str(exc), total, backend.name)
    finally:
        if candidate is not None:
            candidate.end()
        sandboxed.close()
    return summary(reports, total, backend.name, built.cached, grader.borrowed)
