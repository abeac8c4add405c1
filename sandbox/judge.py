"""Judge one submission: compile, run each test in the sandbox, compare outside it, give verdicts."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sandbox import checkers, compile_cache
from sandbox.backends.base import Backend, Session, SessionBroken
from sandbox.compare import parse_result, same_text, same_value
from sandbox.harness import function_program
from sandbox.languages import Language
from sandbox.limits import Limits
from sandbox.testcases import BadTests, TestCase, TestSuite


class Verdict(StrEnum):
    accepted = "accepted"
    wrong_answer = "wrong_answer"
    time_limit = "time_limit"
    memory_limit = "memory_limit"
    runtime_error = "runtime_error"
    compile_error = "compile_error"
    output_limit = "output_limit"
    sandbox_error = "sandbox_error"
    partial = "partial"              # a checker program gave part of the credit (the test's ``score``)
    checker_error = "checker_error"  # the checker program failed: the item's error, never the candidate's
    skipped = "skipped"  # not run: an earlier test failed and stop_on_failure was set


class Unsupported(ValueError):
    """This language cannot run this kind of test (e.g. C++ function calls)."""


@dataclass(frozen=True)
class TestReport:
    verdict: Verdict
    time_s: float | None = None
    memory_kb: int | None = None
    detail: str | None = None
    score: float | None = None  # partial only: the checker's score, 0..1


@dataclass(frozen=True)
class Report:
    verdict: Verdict                      # accepted when every test passed, else the first failure's
                                          # (checker_error wherever the checker failed)
    passed: int                           # tests fully accepted
    total: int
    tests: tuple[TestReport, ...] = field(default_factory=tuple)
    compile_output: str | None = None
    backend: str | None = None
    compile_cached: bool = False          # the compile's outcome came from the host's cache (compile_cache.py)
    score: float | None = None            # with partial credit from a checker: the mean of the tests' scores
    borrowed: tuple[str, ...] = ()        # assert-style tests: names the test code took from the candidate

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0


DEFAULT_LIMITS = Limits()
RECV_SLACK_S = 5.0  # how much longer than a program's limit the runner may take to answer
_MEMORY_SIGNS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory")
DETAIL_BYTES = 1000   # a test's detail (the end of its stderr), as JSON
OUTPUT_BYTES = 2000   # compile output, and the reason of a sandbox error, as JSON
CUT = "[...] "


def clip(text: str, limit: int) -> str:
    """The end of ``text`` that fits ``limit`` bytes once JSON-encoded (escapes counted: a submission
    chooses what it writes, down to control characters), marked where cut. The end, because the last lines
    of a traceback or a compiler's output say the most."""
    if len(text) <= limit and len(json.dumps(text)) <= limit:
        return text
    keep = min(len(text), limit)
    while keep > 0:
        piece = CUT + text[-keep:]
        cost = len(json.dumps(piece))
        if cost <= limit:
            return piece
        keep = min(keep - 1, keep * limit // cost)  # as many characters as this mix of escapes allows
    return CUT


def process_failure(run: dict[str, Any]) -> TestReport | None:
    """The verdict of a run that did not end normally (limits, signals, a non-zero exit); None if it did."""
    timing = {"time_s": run.get("time_s"), "memory_kb": run.get("max_rss_kb")}
    sig = run.get("signal")
    if run.get("timed_out") or sig == signal.SIGXCPU:
        return TestReport(Verdict.time_limit, **timing)
    if run.get("output_limit"):
        return TestReport(Verdict.output_limit, **timing)
    if run.get("oom") or (run.get("exit") != 0 and any(s in run.get("stderr", "") for s in _MEMORY_SIGNS)):
        return TestReport(Verdict.memory_limit, **timing)
    if sig is not None or run.get("exit") != 0:
        how = f"killed by signal {sig}" if sig is not None else f"exit code {run.get('exit')}"
        stderr = clip((run.get("stderr") or "").rstrip(), DETAIL_BYTES)
        return TestReport(Verdict.runtime_error, detail=f"{how}: {stderr}".strip(), **timing)
    return None


Check = Callable[[TestCase, str], TestReport]  # a stdin/stdout test's output judged: verdict, score, detail


def classify(run: dict[str, Any], case: TestCase, fn_mode: bool, tolerance: float | None,
             check: Check | None = None) -> TestReport:
    """A test's verdict from what the runner saw; the expected output is only ever looked at here (or by
    ``check``, the suite's checker, for an output of a run that ended normally)."""
    failed = process_failure(run)
    if failed is not None:
        return failed
    timing = {"time_s": run.get("time_s"), "memory_kb": run.get("max_rss_kb")}
    if fn_mode:
        ok, value = parse_result(run.get("result"))
        if not ok:
            return TestReport(Verdict.runtime_error, detail="the function returned nothing JSON can hold", **timing)
        want = case.expected
        good = same_value(value, want, tolerance) or (
            case.apps_style and isinstance(want, list) and len(want) == 1 and same_value(value, want[0], tolerance))
    elif check is not None:
        return replace(check(case, run.get("stdout", "")), time_s=timing["time_s"], memory_kb=timing["memory_kb"])
    else:
        good = same_text(run.get("stdout", ""), case.expected, tolerance)
    return TestReport(Verdict.accepted if good else Verdict.wrong_answer, **timing)


def _job(program: Any, limits: Limits, backend: Backend, keep: bool,
         cached: compile_cache.Compiled | None) -> dict[str, Any]:
    """The runner's job: compile and ask for what the compile makes (to ``keep`` it), or bring what an
    identical compile made (``cached``) and compile nothing."""
    run_limits, compile_limits = limits.runner_limits(backend.address_space_rlimit, backend.nproc_rlimit)
    job = {"files": program.files, "compile": None if cached else program.compile, "run": program.run,
           "limits": run_limits, "compile_limits": compile_limits, "workdir_base": backend.workdir_base,
           "python_inproc": program.python_inproc, "sweep": backend.sweep is not None,
           "wipe": list(backend.sweep or ())}
    if cached is not None:
        job["binary"] = cached.files
    elif keep:
        job["artifacts"] = compile_cache.ARTIFACT_BYTES
    return job


def _compile_failure(built: dict[str, Any], limits: Limits) -> str:
    """The compiler's message within ``OUTPUT_BYTES`` as JSON: its head, where the first error is (later
    ones often follow from it), cut at a line where one is near, and marked where cut."""
    if built.get("timed_out"):
        return f"compilation took longer than {limits.compile_time_s:g} s"
    text = (built.get("stderr") or "").rstrip()
    if len(json.dumps(text)) <= OUTPUT_BYTES:
        return text
    keep = min(len(text), OUTPUT_BYTES)
    while keep > 0:
        head = text[:keep]
        line_end = head.rfind("\n", keep // 2)
        piece = (head[:line_end] if line_end > 0 else head) + "\n" + CUT.strip()
        cost = len(json.dumps(piece))
        if cost <= OUTPUT_BYTES:
            return piece
        keep = min(keep - 1, keep * OUTPUT_BYTES // cost)  # as many characters as this mix of escapes allows
    return CUT.strip()


def _compile(session: Session, program: Any, backend: Backend,
             limits: Limits) -> tuple[dict[str, Any], compile_cache.Compiled | None]:
    """Start ``program`` on a fresh session: (the compile's answer, the cache entry it came from, if any)."""
    key, cached = compile_cache.find(backend, program, limits)
    if cached is not None and not cached.ok:  # a compile error: the same message, no second compile
        return {"ok": False, "stderr": cached.stderr}, cached
    session.send(_job(program, limits, backend, key is not None, cached))
    answer = session.recv(min(limits.compile_time_s, limits.item_time_s) + RECV_SLACK_S)
    if "error" in answer:
        raise SessionBroken(answer["error"])
    if cached is None:
        compile_cache.keep(backend, key, answer["compile"])
    return answer["compile"], cached


class _Compare:
    """A built-in checker (or the default comparison): the output compared here, on the host."""

    def __init__(self, same: Callable[[str, str], bool]) -> None:
        self.same = same

    def __call__(self, case: TestCase, output: str) -> TestReport:
        return TestReport(Verdict.accepted if self.same(output, case.expected) else Verdict.wrong_answer)

    def close(self) -> None:
        pass


class _ProgramCheck:
    """A checker program in a session of its own (see :mod:`sandbox.checkers`), compiled before the candidate
    runs: one run per output to check. A session that breaks is a sandbox error, as the candidate's is."""

    _VERDICTS = {checkers.ACCEPTED: Verdict.accepted, checkers.WRONG: Verdict.wrong_answer,
                 checkers.PARTIAL: Verdict.partial, checkers.FAILED: Verdict.checker_error}

    def __init__(self, checker: checkers.Checker, backend: Backend, limits: Limits) -> None:
        self.limits, self.in_sync = limits, False
        self.session = backend.session(limits)
        try:
            built, _ = _compile(self.session, checkers.program(checker), backend, limits)
        except BaseException:
            self.close()
            raise
        self.in_sync = True
        if not built["ok"]:
            self.close()
            if built.get("timed_out"):  # the machine's load as much as the checker: not the data's fault
                raise SessionBroken(f"the checker's {_compile_failure(built, limits)}")
            raise BadTests(f"the checker does not compile: {_compile_failure(built, limits)}")

    def __call__(self, case: TestCase, output: str) -> TestReport:
        seen = self._check(case, output)
        if seen.status == checkers.FAILED and self._check(case, case.expected).status == checkers.ACCEPTED:
            # It fails on this output but accepts the answer: the output broke it. A 0, not a null reward a
            # policy could learn to earn by crashing a fragile checker.
            return TestReport(Verdict.wrong_answer, detail=clip(f"the checker failed on this output (it accepts "
                                                                f"the answer): {seen.message}", DETAIL_BYTES))
        return TestReport(self._VERDICTS[seen.status], score=seen.score,
                          detail=clip(seen.message, DETAIL_BYTES) or None)

    def _check(self, case: TestCase, output: str) -> checkers.Outcome:
        wall, self.in_sync = self.limits.time_s, False
        self.session.send({"stdin": checkers.stdin(case.stdin, output, case.expected), "wall_s": wall})
        run = self.session.recv(wall + RECV_SLACK_S)
        if "error" in run:
            raise SessionBroken(run["error"])
        self.in_sync = True
        return checkers.outcome(run, wall)

    def close(self) -> None:
        self.session.close(anomaly=not self.in_sync)


def _checker(suite: TestSuite, backend: Backend, limits: Limits,
             tolerance: float | None) -> _Compare | _ProgramCheck:
    """The suite's checker, ready: a checker program's session compiled (raises :class:`BadTests` when it does
    not compile, :class:`SessionBroken` when its sandbox fails)."""
    if suite.checker is not None and suite.checker.is_program:
        return _ProgramCheck(suite.checker, backend, limits)
    return _Compare(checkers.builtin(suite.checker, tolerance))


def _run_tests(session: Session, suite: TestSuite, limits: Limits, deadline: float, stop_on_failure: bool,
               tolerance: float | None, check: Check | None = None) -> tuple[list[TestReport], bool]:
    """Each test in turn on an open session; (reports, anomaly). The time a checker takes is not the
    candidate's: the deadline moves by it. A checker that fails stops the tests (the item is an error)."""
    reports: list[TestReport] = []
    for case in suite.cases:
        wall = min(limits.time_s, deadline - time.monotonic())
        if wall <= 0.05:
            reports.append(TestReport(Verdict.time_limit, detail=f"the submission's {limits.item_time_s:g} s "
                                                                  "budget was used up"))
        else:
            session.send({"stdin": case.stdin, "wall_s": wall})
            try:
                run = session.recv(wall + RECV_SLACK_S)
            except SessionBroken as exc:  # the program took the runner down with it, or froze it
                reports.append(TestReport(Verdict.runtime_error,
                                          detail=clip(f"the sandbox runner failed: {exc}", DETAIL_BYTES)))
                return reports, True
            if "error" in run:
                raise SessionBroken(run["error"])
            judged = time.monotonic()
            reports.append(classify(run, case, suite.fn_name is not None, tolerance, check))
            deadline += time.monotonic() - judged
        if reports[-1].verdict is Verdict.checker_error or (
                stop_on_failure and reports[-1].verdict is not Verdict.accepted):
            break
    return reports, False


def judge(code: str, language: Language, suite: TestSuite, backend: Backend, limits: Limits = DEFAULT_LIMITS, *,
          stop_on_failure: bool = True, float_tolerance: float | None = None) -> Report:
    """Run ``code`` against ``suite``. Raises :class:`Unsupported` and, when the backend cannot start a
    sandbox at all, :class:`SandboxUnavailable`; a sandbox that fails mid-way gives ``sandbox_error``."""
    if suite.asserts is not None:
        from sandbox.asserts import judge_asserts
        return judge_asserts(code, language, suite.asserts, backend, limits)
    program = language.program(code) if suite.fn_name is None else function_program(language, code, suite)
    if program is None:
        raise Unsupported(f"{language.name} does not support function-call tests; use stdin/stdout tests")
    total = len(suite.cases)
    try:
        check = _checker(suite, backend, limits, float_tolerance)  # before the candidate: its time is not theirs
    except SessionBroken as exc:
        return Report(Verdict.sandbox_error, 0, total, compile_output=clip(f"checker: {exc}", OUTPUT_BYTES),
                      backend=backend.name)
    deadline = time.monotonic() + limits.item_time_s
    try:
        session = backend.session(limits)
    except SessionBroken as exc:
        check.close()
        return Report(Verdict.sandbox_error, 0, total, compile_output=clip(str(exc), OUTPUT_BYTES),
                      backend=backend.name)
    except BaseException:
        check.close()
        raise
    anomaly = True
    try:
        built, cached = _compile(session, program, backend, limits)
        if not built["ok"]:
            anomaly = False
            return Report(Verdict.compile_error, 0, total, tuple(TestReport(Verdict.compile_error) for _ in suite.cases),
                          _compile_failure(built, limits), backend.name, cached is not None)
        reports, anomaly = _run_tests(session, suite, limits, deadline, stop_on_failure, float_tolerance, check)
    except SessionBroken as exc:
        return Report(Verdict.sandbox_error, 0, total, compile_output=clip(str(exc), OUTPUT_BYTES),
                      backend=backend.name)
    finally:
        session.close(anomaly=anomaly)
        check.close()
    reports += [TestReport(Verdict.skipped)] * (total - len(reports))
    passed = sum(r.verdict is Verdict.accepted for r in reports)
    first_failure = next((r.verdict for r in reports if r.verdict is not Verdict.accepted), Verdict.accepted)
    if any(r.verdict is Verdict.checker_error for r in reports):
        first_failure = Verdict.checker_error
    score = None
    if any(r.score is not None for r in reports):
        score = sum(1.0 if r.verdict is Verdict.accepted else r.score or 0.0 for r in reports) / total
    return Report(first_failure, passed, total, tuple(reports), None, backend.name, cached is not None, score)
