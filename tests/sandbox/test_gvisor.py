"""The Docker backend's runtime (``REWARD_SANDBOX_DOCKER_RUNTIME``): containers really run under gVisor when
it says ``runsc``, a runtime the engine does not know stops the start, and the status line says which.

The rest of the sandbox's suite runs under runsc too (CI: ``REWARD_SANDBOX_DOCKER_RUNTIME=runsc``), less the
tests listed with their reasons in ``RUNSC_LEFT_OUT`` (tests/conftest.py)."""

from __future__ import annotations

import os

import pytest

from sandbox import Limits, SandboxUnavailable, Verdict, get_language, judge, parse_tests
from sandbox.backends import status
from sandbox.backends.docker import RUNTIME_ENV, DockerBackend
from tests.conftest import need

pytestmark = pytest.mark.docker
RELEASE_PY = "import os\nprint(os.uname().release)\n"


def _backend(runtime: str) -> DockerBackend:
    try:
        return DockerBackend(runtime=runtime)
    except SandboxUnavailable as exc:
        need(False, f"docker sandbox with runtime {runtime} unavailable: {exc} "
                    "(OFFLINE_DOCKER_RUNSC=1 ../shared/ci/offline-docker.sh registers runsc)")
        raise


@pytest.fixture(scope="module")
def runsc():
    backend = _backend("runsc")
    yield backend
    backend.close()


def test_an_unknown_runtime_stops_the_backend_at_start_with_the_reason():
    with pytest.raises(SandboxUnavailable, match=r"no runtime 'no-such-runtime'.*runc"):
        DockerBackend(runtime="no-such-runtime")


def test_status_says_the_runtime_and_refuses_an_unknown_one(monkeypatch):
    monkeypatch.setenv(RUNTIME_ENV, "no-such-runtime")
    ok, line = status("docker")
    if "not reachable" in line:
        need(False, line)
    assert not ok and "no-such-runtime" in line
    monkeypatch.setenv(RUNTIME_ENV, "runc")
    assert status("docker") == (True, "docker: engine answers, runtime runc")


def test_the_readiness_detail_names_the_runtime(monkeypatch):
    from reward_service.grading.code import sandbox_readiness
    monkeypatch.setenv(RUNTIME_ENV, "no-such-runtime")
    assert sandbox_readiness("docker")["sandbox"] == "unavailable"
    assert "no-such-runtime" in sandbox_readiness("docker")["sandbox_detail"]


def test_runsc_containers_run_on_gvisors_kernel_not_the_hosts(runsc):
    """A program sees gVisor's own kernel release, not the host's: the second wall is really there."""
    assert runsc.describe().endswith("runtime runsc")
    python = get_language("python")
    assert python is not None
    suite = parse_tests({"inputs": [""], "outputs": [os.uname().release + "\n"]})
    report = judge(RELEASE_PY, python, suite, runsc)
    assert report.verdict == Verdict.wrong_answer, report  # ran, and printed another kernel's release


def test_under_runsc_the_process_limit_is_the_programs_own_error(runsc):
    """gVisor's threads count in the host's pids cgroup, so the programs' limit is RLIMIT_NPROC there: a
    fork bomb ends as the program's runtime error, and the next submission runs normally."""
    python = get_language("python")
    assert python is not None
    bomb = ("import os, sys\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
            "            import time; time.sleep(30); os._exit(0)\n        n += 1\n"
            "except OSError:\n    print(n)\n    sys.exit(3)\n")
    limits = Limits(pids=16)
    report = judge(bomb, python, parse_tests({"inputs": [""], "outputs": ["x\n"]}), runsc, limits)
    assert report.verdict == Verdict.runtime_error, report
    after = judge("print(input())\n", python, parse_tests({"inputs": ["ok\n"], "outputs": ["ok\n"]}), runsc, limits)
    assert after.verdict == Verdict.accepted, after
