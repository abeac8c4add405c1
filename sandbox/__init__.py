"""Run untrusted code and judge it against test cases. Knows nothing of HTTP, queues or the service.

    from sandbox import get_backend, judge, parse_tests, get_language, Limits
    report = judge(code, get_language("python"), parse_tests(tests), get_backend("auto"))

Backends: ``docker`` (production), ``bwrap`` (bubblewrap, no Docker needed), ``auto`` (Docker when the
engine answers, else bubblewrap), and ``unsafe-local`` (no isolation: trusted code only, never automatic).
"""

from __future__ import annotations

import atexit
import shutil
import threading
import time

from sandbox.backends.base import Backend, SandboxUnavailable
from sandbox.judge import Report, TestReport, Unsupported, Verdict, judge
from sandbox.languages import ALIASES, LANGUAGES, Language, get_language
from sandbox.limits import Limits
from sandbox.testcases import BadTests, TestSuite, parse_tests

__all__ = ["ALIASES", "LANGUAGES", "Backend", "BadTests", "Language", "Limits", "Report", "SandboxUnavailable",
           "TestReport", "TestSuite", "Unsupported", "Verdict", "available", "get_backend", "get_language", "judge",
           "parse_tests", "status"]

_backends: dict[tuple[str, bool], Backend] = {}
_lock = threading.Lock()


def _make(name: str, bwrap_rlimits_only: bool = False) -> Backend:
    if name == "docker":
        from sandbox.backends.docker import DockerBackend
        return DockerBackend()
    if name == "bwrap":
        from sandbox.backends.bwrap import BwrapBackend
        return BwrapBackend(rlimits_only=bwrap_rlimits_only)
    if name == "unsafe-local":
        from sandbox.backends.local import LocalBackend
        return LocalBackend()
    if name == "auto":
        reasons = []
        for candidate in ("docker", "bwrap"):
            try:
                return _make(candidate, bwrap_rlimits_only)
            except SandboxUnavailable as exc:
                reasons.append(str(exc))
        raise SandboxUnavailable("no sandbox available: install Docker or bubblewrap (" + "; ".join(reasons) + ")")
    raise ValueError(f"unknown sandbox backend {name!r}: docker, bwrap, auto or unsafe-local")


def status(name: str = "auto", *, bwrap_rlimits_only: bool = False) -> tuple[bool, str]:
    """(could ``name`` run a submission here, one line saying how or why not), for readiness probes. Cheap:
    no sandbox starts. Docker: the engine answers a ping. bwrap: installed, and which limits apply
    (``bwrap: cgroup v2 limits``, ``bwrap: per-process limits only (...)``) or why it would refuse to start.
    :func:`get_backend` still has the final word."""
    if name == "unsafe-local":
        return True, "unsafe-local: no isolation (trusted code only)"
    if name == "auto":
        first = status("docker")
        if first[0]:
            return first
        second = status("bwrap", bwrap_rlimits_only=bwrap_rlimits_only)
        return second if second[0] else (False, f"{first[1]}; {second[1]}")
    if name == "bwrap":
        with _lock:
            running = _backends.get(_key("bwrap", bwrap_rlimits_only))
        if running is not None and shutil.which("bwrap"):  # the tool can go away under a running backend
            return True, f"bwrap: {running.describe()}"  # type: ignore[attr-defined]
        from sandbox.backends.bwrap import status as bwrap_status
        return bwrap_status(rlimits_only=bwrap_rlimits_only)
    if name == "docker":
        try:
            import docker
            docker.from_env(timeout=2).ping()
            return True, "docker: engine answers"
        except Exception as exc:  # no SDK, no socket, no answer: all mean "not here"
            return False, f"docker: engine not reachable ({type(exc).__name__})"
    return False, f"{name}: unknown sandbox backend"


def available(name: str = "auto", *, bwrap_rlimits_only: bool = False) -> bool:
    """Could ``name`` run a submission here? :func:`status` without the reason."""
    return status(name, bwrap_rlimits_only=bwrap_rlimits_only)[0]


def _key(name: str, bwrap_rlimits_only: bool) -> tuple[str, bool]:
    return name, bwrap_rlimits_only and name in ("bwrap", "auto")  # the option means nothing to the others


_failures: dict[tuple[str, bool], tuple[float, SandboxUnavailable]] = {}
RETRY_AFTER_S = 30.0  # a backend that could not start is not retried (an image build, say) for this long


def get_backend(name: str = "auto", *, bwrap_rlimits_only: bool = False) -> Backend:
    """The process's backend of that name, created on first use and reused (warm containers). Raises
    :class:`SandboxUnavailable` (remembered for ``RETRY_AFTER_S``) or ``ValueError`` for an unknown name.
    ``bwrap_rlimits_only``: bubblewrap may run without cgroups, on per-process limits (see its module)."""
    key = _key(name, bwrap_rlimits_only)
    with _lock:
        if key in _backends:
            return _backends[key]
        failed = _failures.get(key)
        if failed and time.monotonic() - failed[0] < RETRY_AFTER_S:
            raise failed[1]
        try:
            _backends[key] = _make(name, bwrap_rlimits_only)
        except SandboxUnavailable as exc:
            _failures[key] = (time.monotonic(), exc)
            raise
        _failures.pop(key, None)
        return _backends[key]


@atexit.register
def _close_all() -> None:
    for backend in _backends.values():
        try:
            backend.close()
        except Exception:  # exiting anyway; leftovers are removed by `python -m sandbox build`
            pass
