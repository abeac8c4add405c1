"""Resource limits of one submission."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.runner import RunLimits


@dataclass(frozen=True)
class Limits:
    time_s: float = 5.0            # wall clock per test (CPU time: this plus one second)
    item_time_s: float = 60.0      # wall clock for the whole submission, compilation included; tests past it
                                   # are time_limit (the service kills a code item at 120 s by default)
    memory_mb: int = 512           # the program's memory: a cgroup (Docker; bubblewrap with cgroups), else the
                                   # address space of each process (bubblewrap told to accept rlimits only)
    output_bytes: int = 1 << 20    # stdout per test; more is output_limit
    file_size_mb: int = 16         # largest file a program may write
    pids: int = 64                 # processes and threads at once
    cpus: float = 1.0              # CPU quota (a cgroup: Docker, bubblewrap with cgroups)
    tmpfs_mb: int = 64             # the only writable place
    compile_time_s: float = 30.0
    compile_memory_mb: int = 2048  # g++ needs far more than the programs it builds

    @property
    def cpu_s(self) -> float:
        return self.time_s + 1.0

    def with_overrides(self, time_s: float | None = None, memory_mb: int | None = None) -> Limits:
        return replace(self, time_s=time_s or self.time_s, memory_mb=memory_mb or self.memory_mb)

    def runner_limits(self, address_space: bool, nproc: bool) -> tuple[RunLimits, RunLimits]:
        """(program, compile) limits in the runner's terms; rlimits for what the backend has no cgroup for."""
        def one(wall: float, memory: int) -> RunLimits:
            return {"wall_s": wall, "cpu_s": wall + 1.0, "fsize_mb": self.file_size_mb,
                    "output_bytes": self.output_bytes, "address_space_mb": memory if address_space else None,
                    "nproc": self.pids if nproc else None}
        return one(self.time_s, self.memory_mb), one(self.compile_time_s, self.compile_memory_mb)
