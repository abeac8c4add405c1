"""Code accuracy: the last fenced block of the item's language in the final answer, judged in the sandbox.

A thin bridge: the sandbox package compiles, runs and compares; this module picks the code out of the
completion, maps the item's fields onto the sandbox and its report onto a verdict. Binary by default (all
tests pass = 1.0, the R1 rule), the passed fraction with ``partial`` (where a checker program gives part of a
test's credit, the mean of the tests' scores). Without ``partial`` it stops at the first failure unless the
item says otherwise. A checker program that fails is the item's ``error``, never the candidate's 0.

Which block: the last one tagged with the item's language or an alias (```py, ```c++, ...); when there is
none, the last untagged block (models often omit the tag); a block tagged with another language never
counts. An item without ``language`` is Python. No block: accuracy 0 with the reason, unless the problem's
own code (HumanEval's prompt) defines the function under test: then a completion without a block is code
continuing that prompt (a function body, as HumanEval's completions are). A sandbox that cannot
run at all is an ``error`` (never a 0), malformed tests or an unknown language ``invalid``; whatever the
program does to its own channels and limits is its own failure, a 0 (the sandbox says ``sandbox_error`` only
for its own). The details stay small whatever the program writes (a verdict travels to the trainer with
every item): the sandbox cuts each string it reports to a few kB, the first ``MAX_TESTS_LISTED`` tests are
listed, and only the first ``MAX_TESTS_WITH_DETAIL`` failing ones carry their detail.
"""

from __future__ import annotations

import re
from typing import Any

from reward_service.grading.types import Grade, Reason
from reward_service.schemas import CodeLimits

_FENCE = re.compile(r"^[ \t]*```[ \t]*([^\s`]*)[^\n]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
MAX_TESTS_LISTED = 50      # tests listed in a verdict's details (verdict, time, memory)
MAX_TESTS_WITH_DETAIL = 5  # of those, how many carry their detail: each at most ~1 kB (the end of stderr)


def extract_code(region: str, language: str) -> str | None:
    """The last fenced block tagged with ``language`` or one of its aliases; else the last untagged block."""
    from sandbox import ALIASES
    tagged, untagged = None, None
    for tag, body in _FENCE.findall(region):
        if not tag:
            untagged = body
        elif ALIASES.get(tag.lower()) == language:
            tagged = body
    return tagged if tagged is not None else untagged


def _details(report: Any) -> dict[str, Any]:
    tests = [{"verdict": t.verdict.value, "time_s": t.time_s, "memory_kb": t.memory_kb,
              **({"score": t.score} if t.score is not None else {})} for t in report.tests[:MAX_TESTS_LISTED]]
    detailed = [(row, t.detail) for row, t in zip(tests, report.tests, strict=False) if t.detail]
    for row, detail in detailed[:MAX_TESTS_WITH_DETAIL]:
        row["detail"] = detail
    out: dict[str, Any] = {"verdict": report.verdict.value, "passed": report.passed, "total": report.total,
                           "tests": tests, "backend": report.backend}
    if report.score is not None:
        out["partial_score"] = report.score  # a checker gave part of some test's credit: the tests' mean
    if report.compile_output or report.error:  # a sandbox error's message goes out under the same key
        out["compile_output"] = report.compile_output or report.error
    if report.borrowed:  # the tests use these names and neither they nor their setup define them
        out["names_from_candidate"] = list(report.borrowed)
    if report.compile_cached:
        out["compile_cached"] = True  # the same program was compiled before: its binary (or error) was reused
    return out


def _continues_a_prompt(suite: Any) -> bool:
    """Whether the tests carry the problem's code and it defines the function under test (HumanEval's prompt),
    so that a completion may be that function's body."""
    from sandbox.kinds.asserts import defines
    tests = suite.asserts
    return tests is not None and bool(tests.setup) and defines(tests.setup, tests.entry_point)


def sandbox_readiness(backend: str, bwrap_rlimits_only: bool = False) -> dict[str, str]:
    """For /readyz: ``{"sandbox": "ok" | "unavailable" | "disabled", "sandbox_detail": one line}``. Cheap: no
    sandbox starts (see :func:`sandbox.status`)."""
    if backend == "none":
        return {"sandbox": "disabled", "sandbox_detail": "code grading is switched off (REWARD_SANDBOX_BACKEND=none)"}
    import sandbox
    ok, line = sandbox.status(backend, bwrap_rlimits_only=bwrap_rlimits_only)
    return {"sandbox": "ok" if ok else "unavailable", "sandbox_detail": line}


def grade_code(region: str, tests: Any, language: str | None, limits: CodeLimits | None = None, *,
               partial: bool = False, backend: str = "auto", bwrap_rlimits_only: bool = False) -> Grade:
    from sandbox import (
        LANGUAGES,
        BadTests,
        Limits,
        SandboxUnavailable,
        Unsupported,
        get_backend,
        get_language,
        judge,
        parse_tests,
    )
    from sandbox import Verdict as Judged
    lang = get_language(language or "python")
    if lang is None:
        return Grade.invalid(Reason.unsupported_language, f"unknown programming language {language!r}; supported: "
                             f"{', '.join(sorted(LANGUAGES))}")
    try:
        suite = parse_tests(tests)
    except BadTests as exc:
        return Grade.invalid(Reason.bad_tests, f"bad tests: {exc}")
    code = extract_code(region, lang.name)
    if code is None and _continues_a_prompt(suite):
        code = region
    if code is None:
        return Grade.ok(0.0, Reason.no_code, f"no ```{lang.name} block in the final answer")
    if backend == "none":
        return Grade.error(Reason.sandbox_off, "code grading is switched off (REWARD_SANDBOX_BACKEND=none)")
    limits = limits or CodeLimits.model_validate({})
    stop = limits.stop_on_first_failure if limits.stop_on_first_failure is not None else not partial
    try:
        report = judge(code, lang, suite, get_backend(backend, bwrap_rlimits_only=bwrap_rlimits_only),
                       Limits().with_overrides(limits.time_limit_s, limits.memory_mb),
                       stop_on_failure=stop, float_tolerance=limits.float_tolerance)
    except SandboxUnavailable as exc:
        return Grade.error(Reason.sandbox_error, str(exc))
    except (BadTests, Unsupported) as exc:  # e.g. a typed language's function-call tests without a signature
        return Grade.invalid(Reason.bad_tests, str(exc))
    details = _details(report)
    if report.verdict is Judged.sandbox_error:
        return Grade.error(Reason.sandbox_error, f"sandbox error: {report.error}", **details)
    if report.verdict is Judged.checker_error:
        failed = next(t for t in report.tests if t.verdict is Judged.checker_error)
        return Grade.error(Reason.checker_failed, f"the checker failed: {failed.detail or 'no message'}", **details)
    if not partial:
        score = float(report.verdict is Judged.accepted)
    else:
        score = report.score if report.score is not None else report.fraction
    if report.verdict is Judged.accepted:
        return Grade.ok(score, **details)
    return Grade.ok(score, Reason.tests_failed, f"{report.verdict.value} ({report.passed}/{report.total})", **details)
