"""What judging says: verdicts, the report of each test and of a submission, and how long their texts may be.

Every string a report carries is cut to a few kB *as JSON* (a program chooses what it writes, down to control
characters, which JSON escapes): a report travels to the trainer with every item.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
    compile_output: str | None = None     # compile_error only: the compiler's message
    backend: str | None = None
    compile_cached: bool = False          # the compile's outcome came from the host's cache (compile_cache.py)
    score: float | None = None            # with partial credit from a checker: the mean of the tests' scores
    borrowed: tuple[str, ...] = ()        # assert-style tests: names the test code took from the candidate
    error: str | None = None              # sandbox_error only: what failed (ours, never the program's)

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0


DETAIL_BYTES = 1000   # a test's detail (the end of its stderr), as JSON
OUTPUT_BYTES = 2000   # compile output, and the reason of a sandbox error, as JSON
CUT = "[...] "
_MEMORY_SIGNS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory")


def _fit(text: str, limit: int, piece: Callable[[int], str]) -> str | None:
    """The first ``piece(keep)``, from ``keep`` = len(text) down, that fits ``limit`` bytes as JSON."""
    keep = min(len(text), limit)
    while keep > 0:
        cut = piece(keep)
        cost = len(json.dumps(cut))
        if cost <= limit:
            return cut
        keep = min(keep - 1, keep * limit // cost)  # as many characters as this mix of escapes allows
    return None


def clip(text: str, limit: int) -> str:
    """The end of ``text`` that fits ``limit`` bytes once JSON-encoded (escapes counted), marked where cut.
    The end, because the last lines of a traceback say the most."""
    if len(text) <= limit and len(json.dumps(text)) <= limit:
        return text
    return _fit(text, limit, lambda keep: CUT + text[-keep:]) or CUT


def clip_head(text: str, limit: int) -> str:
    """The head of ``text`` that fits ``limit`` bytes as JSON, cut at a line where one is near and marked: a
    compiler's first error (later ones often follow from it)."""
    if len(json.dumps(text)) <= limit:
        return text

    def head(keep: int) -> str:
        start = text[:keep]
        line_end = start.rfind("\n", keep // 2)
        return (start[:line_end] if line_end > 0 else start) + "\n" + CUT.strip()

    return _fit(text, limit, head) or CUT.strip()


def timing(ran: Mapping[str, Any]) -> dict[str, Any]:
    """A run's time and peak memory, as :class:`TestReport` fields."""
    return {"time_s": ran.get("time_s"), "memory_kb": ran.get("max_rss_kb")}


def out_of_memory(text: str) -> bool:
    """Whether an error's text is a language's out-of-memory error."""
    return any(sign in text for sign in _MEMORY_SIGNS)


def raised(why: str, time_s: float | None) -> TestReport:
    """A test whose call raised (``why``: the exception and its stack): out of memory, or a runtime error."""
    verdict = Verdict.memory_limit if out_of_memory(why) else Verdict.runtime_error
    return TestReport(verdict, time_s=time_s, detail=clip(why, DETAIL_BYTES))


def process_failure(ran: Mapping[str, Any]) -> TestReport | None:
    """The verdict of a run that did not end normally (limits, signals, a non-zero exit); None if it did."""
    sig = ran.get("signal")
    if ran.get("timed_out") or sig == signal.SIGXCPU:
        return TestReport(Verdict.time_limit, **timing(ran))
    if ran.get("output_limit"):
        return TestReport(Verdict.output_limit, **timing(ran))
    if ran.get("oom") or (ran.get("exit") != 0 and out_of_memory(ran.get("stderr", ""))):
        return TestReport(Verdict.memory_limit, **timing(ran))
    if sig is not None or ran.get("exit") != 0:
        how = f"killed by signal {sig}" if sig is not None else f"exit code {ran.get('exit')}"
        stderr = clip((ran.get("stderr") or "").rstrip(), DETAIL_BYTES)
        return TestReport(Verdict.runtime_error, detail=f"{how}: {stderr}".strip(), **timing(ran))
    return None


def sandbox_error(reason: str, total: int, backend: str) -> Report:
    return Report(Verdict.sandbox_error, 0, total, backend=backend, error=clip(reason, OUTPUT_BYTES))


def summary(reports: Sequence[TestReport], total: int, backend: str, compile_cached: bool,
            borrowed: tuple[str, ...]) -> Report:
    """The submission's report from its tests' (those not run are ``skipped``)."""
    tests = (*reports, *[TestReport(Verdict.skipped)] * (total - len(reports)))
    passed = sum(r.verdict is Verdict.accepted for r in tests)
    verdict = next((r.verdict for r in tests if r.verdict is not Verdict.accepted), Verdict.accepted)
    if any(r.verdict is Verdict.checker_error for r in tests):
        verdict = Verdict.checker_error
    score = None
    if any(r.score is not None for r in tests):
        score = sum(1.0 if r.verdict is Verdict.accepted else r.score or 0.0 for r in tests) / total
    return Report(verdict, passed, total, tests, None, backend, compile_cached, score, borrowed)
