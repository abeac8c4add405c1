"""Where the trusted runner runs. A backend opens sessions: a line-delimited JSON channel to one runner.

Backends by name: ``docker``, ``bwrap``, ``auto`` (Docker when the engine answers, else bubblewrap) and
``unsafe-local`` (never automatic). :class:`Backends` makes them on first use and keeps them (warm
containers); the process has one (``sandbox.get_backend``).
"""

from __future__ import annotations

import shutil
import threading
import time

from sandbox.backends.base import Backend, SandboxUnavailable

Key = tuple[str, bool]


def make(name: str, bwrap_rlimits_only: bool = False) -> Backend:
    """A new backend of that name; raises :class:`SandboxUnavailable`, or ``ValueError`` for an unknown name."""
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
                return make(candidate, bwrap_rlimits_only)
            except SandboxUnavailable as exc:
                reasons.append(str(exc))
        raise SandboxUnavailable("no sandbox available: install Docker or bubblewrap (" + "; ".join(reasons) + ")")
    raise ValueError(f"unknown sandbox backend {name!r}: docker, bwrap, auto or unsafe-local")


def _key(name: str, bwrap_rlimits_only: bool) -> Key:
    return name, bwrap_rlimits_only and name in ("bwrap", "auto")  # the option means nothing to the others


class Backends:
    """Backends by name, each made on first use and reused; one that could not start is not tried again (an
    image build, say) for ``retry_after_s``. :meth:`close` closes them all and forgets them."""

    def __init__(self, retry_after_s: float = 30.0) -> None:
        self.retry_after_s = retry_after_s
        self._made: dict[Key, Backend] = {}
        self._failures: dict[Key, tuple[float, SandboxUnavailable]] = {}
        self._lock = threading.Lock()

    def get(self, name: str = "auto", *, bwrap_rlimits_only: bool = False) -> Backend:
        """The backend of that name. Raises :class:`SandboxUnavailable` (remembered for ``retry_after_s``) or
        ``ValueError`` for an unknown name. ``bwrap_rlimits_only``: bubblewrap may run without cgroups, on
        per-process limits (see its module)."""
        key = _key(name, bwrap_rlimits_only)
        with self._lock:
            if key in self._made:
                return self._made[key]
            failed = self._failures.get(key)
            if failed and time.monotonic() - failed[0] < self.retry_after_s:
                raise failed[1]
            try:
                self._made[key] = make(name, bwrap_rlimits_only)
            except SandboxUnavailable as exc:
                self._failures[key] = (time.monotonic(), exc)
                raise
            self._failures.pop(key, None)
            return self._made[key]

    def running(self, name: str, *, bwrap_rlimits_only: bool = False) -> Backend | None:
        """The backend of that name if it has been made; None otherwise (nothing is started)."""
        with self._lock:
            return self._made.get(_key(name, bwrap_rlimits_only))

    def close(self) -> None:
        """Close every backend made (leftovers are removed by ``python -m sandbox build``) and forget them, and
        the failures: the next :meth:`get` starts afresh."""
        with self._lock:
            made, self._made, self._failures = list(self._made.values()), {}, {}
        for backend in made:
            try:
                backend.close()
            except Exception:  # closing anyway (at exit, say): what is left is removed at the next build
                pass


def status(name: str = "auto", *, bwrap_rlimits_only: bool = False,
           running: Backends | None = None) -> tuple[bool, str]:
    """(could ``name`` run a submission here, one line saying how or why not), for readiness probes. Cheap:
    no sandbox starts. Docker: the engine answers a ping and knows the runtime. bwrap: installed, and which limits apply (those of
    a backend ``running`` has made, else of one that would start now) or why it would refuse to start."""
    if name == "unsafe-local":
        return True, "unsafe-local: no isolation (trusted code only)"
    if name == "auto":
        first = status("docker", running=running)
        if first[0]:
            return first
        second = status("bwrap", bwrap_rlimits_only=bwrap_rlimits_only, running=running)
        return second if second[0] else (False, f"{first[1]}; {second[1]}")
    if name == "bwrap":
        made = running.running("bwrap", bwrap_rlimits_only=bwrap_rlimits_only) if running is not None else None
        if made is not None and shutil.which("bwrap"):  # the tool can go away under a running backend
            return True, f"bwrap: {made.describe()}"
        from sandbox.backends.bwrap import status as bwrap_status
        return bwrap_status(rlimits_only=bwrap_rlimits_only)
    if name == "docker":
        try:
            import docker
            client = docker.from_env(timeout=2)
            client.ping()
        except Exception as exc:  # no SDK, no socket, no answer: all mean "not here"
            return False, f"docker: engine not reachable ({type(exc).__name__})"
        from sandbox.backends.docker import check_runtime, configured_runtime
        try:
            check_runtime(client, configured_runtime())
        except SandboxUnavailable as exc:
            return False, f"docker: {exc}"
        return True, f"docker: engine answers, runtime {configured_runtime()}"
    return False, f"{name}: unknown sandbox backend"
