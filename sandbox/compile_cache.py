"""Compiled programs kept by the host, so that the identical programs of a GRPO group compile once.

A compile that succeeded is kept as the files it made (the runner returns them, base64, before any test
runs; see runner.py), a compile error as its message: a hit sends those files with the sources and no
compile, or answers the compile error without one. The cache lives here, in the grading process, never in
a sandbox a later submission could reach, so no submission can change what another runs.

The key is everything the compile depends on: the toolchain (the backend and its image: Docker's g++ is not
the host's), the compile argv and limits, and every source file. A compile that ran out of time or was
killed is not kept (the machine's load decides those, not the source). Entries are bounded by bytes, least
recently used first out.

Each backend owns one (``Backend.compile_cache``; ``None``: it keeps none): the toolchain is the backend's,
and a grading process uses one backend, so its byte budget bounds the memory. The judge reaches it through
:meth:`sandbox.sandboxed.Sandboxed.build`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.languages.base import Program
    from sandbox.runner import Build, Files, RunLimits

MAX_BYTES = 64 << 20       # of the whole cache (artifacts as base64, messages)
ARTIFACT_BYTES = 16 << 20  # what one compile may leave; more, and it is not kept


@dataclass(frozen=True)
class Compiled:
    """What a compile gave: the files it made ({name: [base64, mode]}) when ``ok``, else its message."""

    ok: bool
    files: Files = field(default_factory=dict)
    stderr: str = ""

    @property
    def size(self) -> int:
        return len(self.stderr) + sum(len(name) + len(data) for name, (data, _) in self.files.items())


class CompileCache:
    """A byte-bounded LRU of :class:`Compiled`, safe to share between threads."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Compiled] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Compiled | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Compiled) -> None:
        if entry.size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self._bytes += entry.size - (old.size if old else 0)
            self._entries[key] = entry
            while self._bytes > self.max_bytes:
                self._bytes -= self._entries.popitem(last=False)[1].size

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def key(toolchain: tuple[str, str], program: Program, compile_limits: RunLimits) -> str:
    """Everything a compile depends on, hashed: the toolchain (the backend's name and its ``toolchain``), the
    compile argv and limits, every source file."""
    text = json.dumps([list(toolchain), program.compile, compile_limits, sorted(program.files.items())])
    return hashlib.sha256(text.encode()).hexdigest()


def entry(built: Build) -> Compiled | None:
    """What to keep of the runner's compile answer; None when it is not to be kept (the compile ran out of
    time or was killed, or left more than the runner would return)."""
    if built.get("ok"):
        files = built.get("artifacts")
        return None if files is None else Compiled(True, files=files)
    if built.get("timed_out") or built.get("exit") is None:
        return None
    return Compiled(False, stderr=built.get("stderr") or "")
