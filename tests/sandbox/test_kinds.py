"""Seams: one registered kind per form of tests, a sandbox failure reported in its own field, and the
process's backends kept (and reset) by one object. No sandbox runs here: a backend that cannot open a
session is a fake through the Backend protocol."""

from __future__ import annotations

import pytest

import sandbox
from reward_service.grading.code import grade_code
from sandbox import Limits, SandboxUnavailable, Verdict, get_backend, get_language, judge, parse_tests
from sandbox.backends import Backends
from sandbox.backends.base import SessionBroken
from sandbox.kinds import KINDS, kind_of

FORMS = {
    "stdio": {"inputs": ["1\n"], "outputs": ["1\n"], "checker": "lines"},
    "function": {"fn_name": "f", "inputs": ["1"], "outputs": ["1"]},
    "checker": {"inputs": ["1\n", "2\n"], "outputs": ["1\n", "2\n"],
                "checker": {"language": "python", "code": "import sys\nsys.exit(0)\n"}},
    "asserts": {"check": "def check(candidate):\n    assert candidate(1) == 1\n", "entry_point": "f"},
    "interactive": {"interactor": {"language": "python", "source": "import sys\nsys.exit(0)\n"},
                    "inputs": ["1\n", "2\n"]},
}


class Unopenable:
    """A backend whose sandboxes fail to start (the machine's fault, not the program's)."""

    name, address_space_rlimit, nproc_rlimit, workdir_base, sweep = "unopenable", False, False, "/work", None
    toolchain, compile_cache = "none", None

    def session(self, limits: Limits):
        raise SessionBroken("no sandbox today")

    def describe(self) -> str:
        return "opens nothing"

    def close(self) -> None:
        pass


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_of_tests_is_run_by_one_registered_kind(form):
    suite = parse_tests(FORMS[form])
    assert suite.kind == form and kind_of(suite) is KINDS[form]
    assert KINDS[form].count(suite) == (1 if form == "asserts" else len(suite.cases))


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_sandbox_that_fails_is_a_sandbox_error_in_its_own_field(form):
    report = judge("def f(x):\n    return x\n", get_language("python"), parse_tests(FORMS[form]), Unopenable())
    own = {"checker": "checker: ", "interactive": "interactor: "}  # the kind's own sandbox opens first
    why = own.get(form, "") + "no sandbox today"
    assert (report.verdict, report.error, report.compile_output) == (Verdict.sandbox_error, why, None)
    assert report.total == KINDS[form].count(parse_tests(FORMS[form])) and report.passed == 0


class _Only(Backends):
    def get(self, name: str = "auto", *, bwrap_rlimits_only: bool = False) -> sandbox.Backend:
        return Unopenable()


def test_the_service_still_reads_a_sandbox_error_where_it_did(monkeypatch):
    monkeypatch.setattr(sandbox, "BACKENDS", _Only())
    grade = grade_code("```python\nprint(1)\n```", FORMS["stdio"], "python")
    assert grade.status == "error" and grade.reason == "sandbox error: no sandbox today"
    assert grade.details["verdict"] == "sandbox_error" and grade.details["compile_output"] == "no sandbox today"


def test_backends_are_kept_by_one_object_that_remembers_failures_until_reset(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    backends = Backends()
    with pytest.raises(SandboxUnavailable) as first:
        backends.get("docker")
    with pytest.raises(SandboxUnavailable) as again:
        backends.get("docker")
    assert again.value is first.value and backends.running("docker") is None  # not tried again yet
    backends.close()
    with pytest.raises(SandboxUnavailable) as fresh:
        backends.get("docker")
    assert fresh.value is not first.value  # tried afresh after the reset
    local = backends.get("unsafe-local")
    assert backends.get("unsafe-local") is local and backends.running("unsafe-local") is local
    monkeypatch.setattr(sandbox, "BACKENDS", backends)
    assert get_backend("unsafe-local") is local  # the public function uses the process's registry
    backends.close()
    assert backends.running("unsafe-local") is None
