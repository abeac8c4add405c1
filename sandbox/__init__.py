"""Run untrusted code and judge it against test cases. Knows nothing of HTTP, queues or the service.

    from sandbox import get_backend, judge, parse_tests, get_language, Limits
    report = judge(code, get_language("python"), parse_tests(tests), get_backend("auto"))

Backends: ``docker`` (production), ``bwrap`` (bubblewrap, no Docker needed), ``auto`` (Docker when the
engine answers, else bubblewrap), and ``unsafe-local`` (no isolation: trusted code only, never automatic).
The process's backends are kept in ``BACKENDS`` (closed at exit); a test that needs none of them swaps in a
fresh :class:`~sandbox.backends.Backends`.
"""

from __future__ import annotations

import atexit

from sandbox.backends import Backends
from sandbox.backends import status as _status
from sandbox.backends.base import Backend, SandboxUnavailable
from sandbox.judge import judge
from sandbox.languages import ALIASES, LANGUAGES, Language, get_language
from sandbox.limits import Limits
from sandbox.report import Report, TestReport, Unsupported, Verdict
from sandbox.testcases import BadTests, TestSuite, parse_tests
from sandbox.tool import CellResult, Execution, Output, Repl, ReplGone, ToolError, execute

__all__ = ["ALIASES", "BACKENDS", "LANGUAGES", "Backend", "BadTests", "Language", "Limits", "Report",
           "SandboxUnavailable", "TestReport", "TestSuite", "Unsupported", "Verdict", "available", "get_backend",
           "get_language", "judge", "parse_tests", "status",
           # the sandbox as a tool (sandbox.tool)
           "CellResult", "Execution", "Output", "Repl", "ReplGone", "ToolError", "execute"]

BACKENDS = Backends()  # this process's: warm containers are reused by every judge() call
atexit.register(lambda: BACKENDS.close())  # the one set then (a test may have swapped in its own)


def get_backend(name: str = "auto", *, bwrap_rlimits_only: bool = False) -> Backend:
    """The process's backend of that name, created on first use and reused (warm containers). Raises
    :class:`SandboxUnavailable` (remembered for a while) or ``ValueError`` for an unknown name.
    ``bwrap_rlimits_only``: bubblewrap may run without cgroups, on per-process limits (see its module)."""
    return BACKENDS.get(name, bwrap_rlimits_only=bwrap_rlimits_only)


def status(name: str = "auto", *, bwrap_rlimits_only: bool = False) -> tuple[bool, str]:
    """(could ``name`` run a submission here, one line saying how or why not), for readiness probes. Cheap:
    no sandbox starts (``bwrap: cgroup v2 limits``, ``bwrap: per-process limits only (...)``, or why not).
    :func:`get_backend` still has the final word."""
    return _status(name, bwrap_rlimits_only=bwrap_rlimits_only, running=BACKENDS)


def available(name: str = "auto", *, bwrap_rlimits_only: bool = False) -> bool:
    """Could ``name`` run a submission here? :func:`status` without the reason."""
    return status(name, bwrap_rlimits_only=bwrap_rlimits_only)[0]
