"""Judge one submission: compile, run each test in the sandbox, compare outside it, give verdicts."""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sandbox import compile_cache
from sandbox.backends.base import Backend, Session, SessionBroken
from sandbox.compare import parse_result, same_text, same_value
from sandbox.harness import function_program
from sandbox.languages import Language
from sandbox.limits import Limits
from sandbox.testcases import TestCase, TestSuite


class Verdict(StrEnum):
    accepted = "accepted"
    wrong_answer = "wrong_answer"
    time_limit = "time_limit"
    memory_limit = "memory_limit"
    runtime_error = "runtime_error"
    compile_error = "compile_error"
    output_limit = "output_limit"
    sandbox_error = "sandbox_error"
    skipped = "skipped"  # not run: an earlier test failed and stop_on_failure was set


class Unsupported(ValueError):
    """This language cannot run this kind of test (e.g. C++ function calls)."""


@dataclass(frozen=True)
class TestReport:
    verdict: Verdict
    time_s: float | None = None
    memory_kb: int | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Report:
    verdict: Verdict                      # accepted when every test passed, else the first failure's
    passed: int
    total: int
    tests: tuple[TestReport, ...] = field(default_factory=tuple)
    compile_output: str | None = None
    backend: str | None = None
    compile_cached: bool = False          # the compile's outcome came from the host's cache (compile_cache.py)

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


def classify(run: dict[str, Any], case: TestCase, fn_mode: bool, tolerance: float | None) -> TestReport:
    """A test's verdict from what the runner saw; the expected output is only ever looked at here."""
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
    if fn_mode:
        ok, value = parse_result(run.get("result"))
        if not ok:
            return TestReport(Verdict.runtime_error, detail="the function returned nothing JSON can hold", **timing)
        want = case.expected
        good = same_value(value, want, tolerance) or (
            case.apps_style and isinstance(want, list) and len(want) == 1 and same_value(value, want[0], tolerance))
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


def _run_tests(session: Session, suite: TestSuite, limits: Limits, deadline: float, stop_on_failure: bool,
               tolerance: float | None) -> tuple[list[TestReport], bool]:
    """Each test in turn on an open session; (reports, anomaly)."""
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
            reports.append(classify(run, case, suite.fn_name is not None, tolerance))
        if stop_on_failure and reports[-1].verdict is not Verdict.accepted:
            break
    return reports, False


def judge(code: str, language: Language, suite: TestSuite, backend: Backend, limits: Limits = DEFAULT_LIMITS, *,
          stop_on_failure: bool = True, float_tolerance: float | None = None) -> Report:
    """Run ``code`` against ``suite``. Raises :class:`Unsupported` and, when the backend cannot start a
    sandbox at all, :class:`SandboxUnavailable`; a sandbox that fails mid-way gives ``sandbox_error``."""
    program = language.program(code) if suite.fn_name is None else function_program(language, code, suite)
    if program is None:
        raise Unsupported(f"{language.name} does not support function-call tests; use stdin/stdout tests")
    total = len(suite.cases)
    deadline = time.monotonic() + limits.item_time_s
    try:
        session = backend.session(limits)
    except SessionBroken as exc:
        return Report(Verdict.sandbox_error, 0, total, compile_output=clip(str(exc), OUTPUT_BYTES),
                      backend=backend.name)
    anomaly = True
    try:
        key, cached = compile_cache.find(backend, program, limits)
        if cached is not None and not cached.ok:  # a compile error: the same message, no second compile
            built = {"ok": False, "stderr": cached.stderr}
        else:
            session.send(_job(program, limits, backend, key is not None, cached))
            answer = session.recv(min(limits.compile_time_s, limits.item_time_s) + RECV_SLACK_S)
            if "error" in answer:
                raise SessionBroken(answer["error"])
            built = answer["compile"]
            if cached is None:
                compile_cache.keep(backend, key, built)
        if not built["ok"]:
            anomaly = False
            return Report(Verdict.compile_error, 0, total, tuple(TestReport(Verdict.compile_error) for _ in suite.cases),
                          _compile_failure(built, limits), backend.name, cached is not None)
        reports, anomaly = _run_tests(session, suite, limits, deadline, stop_on_failure, float_tolerance)
    except SessionBroken as exc:
        return Report(Verdict.sandbox_error, 0, total, compile_output=clip(str(exc), OUTPUT_BYTES),
                      backend=backend.name)
    finally:
        session.close(anomaly=anomaly)
    reports += [TestReport(Verdict.skipped)] * (total - len(reports))
    passed = sum(r.verdict is Verdict.accepted for r in reports)
    first_failure = next((r.verdict for r in reports if r.verdict is not Verdict.accepted), Verdict.accepted)
    return Report(first_failure, passed, total, tuple(reports), None, backend.name, cached is not None)
