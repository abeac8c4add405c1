"""UNSAFE: the runner as a plain child process, no isolation at all. For trusted code only (your own
reference solutions, tests of this package); never chosen by ``auto``. Select it by name: ``unsafe-local``."""

from __future__ import annotations

import sys
import tempfile

from sandbox.backends.base import RUNNER, PipeSession
from sandbox.compile_cache import CompileCache
from sandbox.limits import Limits


class LocalBackend:
    name = "unsafe-local"
    address_space_rlimit = True
    nproc_rlimit = False  # counts every process of this user: would break the host's own
    sweep: tuple[str, ...] | None = None  # kill(-1) here would kill the host user's own processes
    workdir_base = tempfile.gettempdir()
    toolchain = "host"

    def __init__(self) -> None:
        self.compile_cache: CompileCache | None = CompileCache()

    def session(self, limits: Limits) -> PipeSession:
        return PipeSession([sys.executable, "-S", str(RUNNER), "--preload"])

    def describe(self) -> str:
        return "no isolation (trusted code only)"

    def close(self) -> None:
        pass
