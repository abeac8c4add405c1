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
           "parse_tests"]

_backends: dict[str, Backend] = {}
_lock = threading.Lock()


def _make(name: str) -> Backend:
    if name == "docker":
        from sandbox.backends.docker import DockerBackend
        return DockerBackend()
    if name == "bwrap":
        from sandbox.backends.bwrap import BwrapBackend
        return BwrapBackend()
    if name == "unsafe-local":
        from sandbox.backends.local import LocalBackend
        return LocalBackend()
    if name == "auto":
        reasons = []
        for candidate in ("docker", "bwrap"):
            try:
                return _make(candidate)
            except SandboxUnavailable as exc:
                reasons.append(str(exc))
        raise SandboxUnavailable("no sandbox available: install Docker or bubblewrap (" + "; ".join(reasons) + ")")
    raise ValueError(f"unknown sandbox backend {name!r}: docker, bwrap, auto or unsafe-local")


def available(name: str = "auto") -> bool:
    """Could ``name`` run a submission here? Cheap (no container starts): the Docker engine answers a ping,
    ``bwrap`` is installed. For readiness probes; :func:`get_backend` still has the final word."""
    if name == "unsafe-local":
        return True
    if name == "auto":
        return available("docker") or available("bwrap")
    if name == "bwrap":
        return shutil.which("bwrap") is not None
    if name == "docker":
        try:
            import docker
            return bool(docker.from_env(timeout=2).ping())
        except Exception:  # no SDK, no socket, no answer: all mean "not here"
            return False
    return False


_failures: dict[str, tuple[float, SandboxUnavailable]] = {}
RETRY_AFTER_S = 30.0  # a backend that could not start is not retried (an image build, say) for this long


def get_backend(name: str = "auto") -> Backend:
    """The process's backend of that name, created on first use and reused (warm containers). Raises
    :class:`SandboxUnavailable` (remembered for ``RETRY_AFTER_S``) or ``ValueError`` for an unknown name."""
    with _lock:
        if name in _backends:
            return _backends[name]
        failed = _failures.get(name)
        if failed and time.monotonic() - failed[0] < RETRY_AFTER_S:
            raise failed[1]
        try:
            _backends[name] = _make(name)
        except SandboxUnavailable as exc:
            _failures[name] = (time.monotonic(), exc)
            raise
        _failures.pop(name, None)
        return _backends[name]


@atexit.register
def _close_all() -> None:
    for backend in _backends.values():
        try:
            backend.close()
        except Exception:  # exiting anyway; leftovers are removed by `python -m sandbox build`
            pass
