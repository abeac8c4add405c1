"""Judge one submission: compile, run each test in the sandbox, compare outside it, give verdicts."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sandbox.backends.base import Backend, SandboxUnavailable, SessionBroken
from sandbox.compare import parse_result, same_text, same_value
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

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0


DEFAULT_LIMITS = Limits()
_MEMORY_SIGNS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory")


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
        return TestReport(Verdict.runtime_error, detail=f"{how}: {run.get('stderr', '')[-500:]}".strip(), **timing)
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


def _job(program: Any, limits: Limits, backend: Backend) -> dict[str, Any]:
    run_limits, compile_limits = limits.runner_limits(backend.address_space_rlimit, backend.nproc_rlimit)
    return {"files": program.files, "compile": program.compile, "run": program.run, "limits": run_limits,
            "compile_limits": compile_limits, "workdir_base": backend.workdir_base, "sweep": backend.sweep}


def judge(code: str, language: Language, suite: TestSuite, backend: Backend, limits: Limits = DEFAULT_LIMITS, *,
          stop_on_failure: bool = True, float_tolerance: float | None = None) -> Report:
    """Run ``code`` against ``suite``. Raises :class:`Unsupported`; sandbox failures become ``sandbox_error``."""
    program = language.program(code, suite.fn_name)
    if program is None:
        raise Unsupported(f"{language.name} does not support function-call tests yet; use stdin/stdout tests")
    total = len(suite.cases)
    try:
        session = backend.session(limits)
    except (SandboxUnavailable, SessionBroken) as exc:
        return Report(Verdict.sandbox_error, 0, total, compile_output=str(exc), backend=backend.name)
    reports: list[TestReport] = []
    anomaly = False
    compile_output = None
    try:
        session.send(_job(program, limits, backend))
        built = session.recv(limits.compile_time_s + 10)["compile"]
        if not built["ok"]:
            detail = (built.get("stderr") or "")[-2000:]
            if built.get("timed_out"):
                detail = f"compilation took longer than {limits.compile_time_s:g} s"
            return Report(Verdict.compile_error, 0, total, tuple(TestReport(Verdict.compile_error) for _ in suite.cases),
                          detail, backend.name)
        for case in suite.cases:
            session.send({"stdin": case.stdin})
            try:
                run = session.recv(limits.time_s + 10)
            except SessionBroken as exc:  # the program took the runner down with it (e.g. kill -9 -1)
                anomaly = True
                reports.append(TestReport(Verdict.runtime_error, detail=f"the sandbox runner died: {exc}"))
                break
            reports.append(classify(run, case, suite.fn_name is not None, float_tolerance))
            if stop_on_failure and reports[-1].verdict is not Verdict.accepted:
                break
        if not anomaly:
            session.send({"stop": True})
    except SessionBroken as exc:
        anomaly = True
        return Report(Verdict.sandbox_error, 0, total, compile_output=str(exc), backend=backend.name)
    finally:
        session.close(anomaly=anomaly)
    reports += [TestReport(Verdict.skipped)] * (total - len(reports))
    passed = sum(r.verdict is Verdict.accepted for r in reports)
    first_failure = next((r.verdict for r in reports if r.verdict is not Verdict.accepted), Verdict.accepted)
    return Report(first_failure, passed, total, tuple(reports), compile_output, backend.name)
