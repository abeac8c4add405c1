"""Where the tool endpoints meet the sandbox: the operator's backend and bounds, and a bounded pool of threads
for :mod:`sandbox.tool`'s blocking calls, so that the event loop never waits on a sandbox.

A caller asks for SandboxFusion's limits; it gets at most the operator's (``REWARD_TOOL_MAX_*``), with code
grading's output bound and isolation (``sandbox.Limits``), on ``REWARD_SANDBOX_BACKEND``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from reward_service.errors import InvalidInput, ToolUnavailable
from reward_service.settings import Settings
from reward_service.tools import wire

if TYPE_CHECKING:
    from sandbox import Backend, Limits
    from sandbox.tool import Repl

log = logging.getLogger(__name__)
T = TypeVar("T")


class ToolRunner:
    """The backend, the bounds and the threads every tool call shares (one per process)."""

    def __init__(self, settings: Settings, pod: str) -> None:
        self.settings, self.pod = settings, pod
        self._pool = ThreadPoolExecutor(settings.tool_concurrency, thread_name_prefix="tool")

    async def call(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``fn`` in one of the pool's threads; a cancelled request leaves it to finish (its limits end it)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args, **kwargs))

    def backend(self) -> Backend:
        """The operator's sandbox, or ToolUnavailable saying why (blocking: call it through :meth:`call`)."""
        s = self.settings
        if s.sandbox_backend == "none":
            raise ToolUnavailable("the sandbox is switched off here (REWARD_SANDBOX_BACKEND=none): no tool calls")
        from sandbox import SandboxUnavailable, get_backend
        try:
            return get_backend(s.sandbox_backend, bwrap_rlimits_only=s.sandbox_bwrap_rlimits_only)
        except SandboxUnavailable as exc:
            raise ToolUnavailable(f"no sandbox for tool calls: {exc}") from exc

    def limits(self, timeout_s: float, memory_mb: int | None) -> Limits:
        """Code grading's limits with the caller's time and memory, cut to the operator's maxima."""
        from sandbox import Limits
        s = self.settings
        memory = s.tool_max_memory_mb if memory_mb is None or memory_mb <= 0 else min(memory_mb, s.tool_max_memory_mb)
        if memory < 16:
            raise InvalidInput(f"{memory} MiB: nothing runs in less than 16 MiB", "memory_limit_MB")
        timeout = self.timeout(timeout_s)
        return replace(Limits(), time_s=timeout, memory_mb=memory, item_time_s=timeout + Limits().compile_time_s)

    def timeout(self, seconds: float) -> float:
        return min(seconds, self.settings.tool_max_timeout_s)

    def check_files(self, files: Mapping[str, bytes | None], fetch: list[str], *, field: str = "files",
                    fetch_field: str = "fetch_files") -> dict[str, bytes]:
        """The files to write (nulls skipped), within the operator's count and bytes; else a 422 naming them."""
        s = self.settings
        for name, paths in ((field, files), (fetch_field, fetch)):
            if len(paths) > s.tool_max_files:
                raise InvalidInput(f"{len(paths)} paths; at most {s.tool_max_files} (REWARD_TOOL_MAX_FILES)", name)
        total, kept = 0, {}
        for path, data in files.items():
            if data is None:
                continue
            total += len(data)
            if total > s.tool_max_file_bytes:
                raise InvalidInput(f"files past {s.tool_max_file_bytes} bytes in all (REWARD_TOOL_MAX_FILE_BYTES)",
                                   field, path)
            kept[path] = data
        return kept

    def check_code(self, code: str, field: str = "code") -> None:
        if len(code) > self.settings.max_code_chars:
            raise InvalidInput(f"{len(code)} characters; at most {self.settings.max_code_chars} "
                               "(REWARD_MAX_CODE_CHARS)", field)

    async def run_code(self, req: wire.RunCodeRequest) -> wire.RunCodeResponse:
        self.check_code(req.code)
        files = self.check_files(req.files, req.fetch_files)
        limits = self.limits(req.run_timeout, req.memory_limit_MB)
        return await self.call(self._run_code, req, files, limits, self.timeout(req.compile_timeout))

    def _run_code(self, req: wire.RunCodeRequest, files: dict[str, bytes], limits: Limits,
                  compile_timeout_s: float) -> wire.RunCodeResponse:
        from sandbox import get_language
        from sandbox.tool import execute
        language = get_language(req.language)
        assert language is not None  # the request model checked it
        try:
            with sandbox_errors():
                execution = execute(req.code, language, self.backend(), stdin=req.stdin or "", limits=limits,
                                    compile_timeout_s=compile_timeout_s, files=files, fetch=req.fetch_files)
        except (InvalidInput, ToolUnavailable):
            raise
        except Exception as exc:  # ours, never the program's: SandboxFusion's SandboxError
            log.exception("run_code failed in the sandbox")
            return wire.RunCodeResponse(status="SandboxError", message=f"sandbox error: {exc!r}",
                                        executor_pod_name=self.pod)
        return wire.run_code_response(execution, self.pod)

    async def run_jupyter(self, req: wire.RunJupyterRequest) -> wire.RunJupyterResponse:
        for i, cell in enumerate(req.cells):
            self.check_code(cell, f"cells.{i}")
        files = self.check_files(req.files, req.fetch_files)
        total = min(req.total_timeout, self.settings.code_item_timeout_s)
        limits = self.limits(total, req.memory_limit_MB)
        return await self.call(self._run_jupyter, req, files, limits, total)

    def _run_jupyter(self, req: wire.RunJupyterRequest, files: dict[str, bytes], limits: Limits,
                     total_s: float) -> wire.RunJupyterResponse:
        """An ephemeral Repl: the cells in order, each within cell_timeout and what is left of total_s."""
        from sandbox.tool import Repl, ReplGone
        deadline = time.monotonic() + total_s
        answer = wire.RunJupyterResponse(status="Success", message="", executor_pod_name=self.pod)
        with sandbox_errors():
            repl = Repl(self.backend(), limits, files=files, lifetime_s=total_s + 5)
        try:
            answer.message = self._cells(repl, req, deadline, answer.cells)
            if repl.alive and req.fetch_files:
                answer.files = wire.encode_files(repl.fetch(req.fetch_files))
        except ReplGone as exc:
            answer.message = f"the Python process ended after {len(answer.cells)} cells: {exc}"
        except Exception as exc:  # ours: SandboxFusion's SandboxError, with the cells that ran
            log.exception("run_jupyter failed in the sandbox")
            answer.status, answer.message = "SandboxError", f"sandbox error: {exc!r}"
            return answer
        finally:
            repl.close()
        if answer.message:
            answer.status = "Failed"
        return answer

    def _cells(self, repl: Repl, req: wire.RunJupyterRequest, deadline: float,
               out: list[wire.CellRunResult]) -> str:
        """Run the cells into ``out`` (a cell that raised does not stop the rest, as in a notebook run by
        SandboxFusion); '' when every cell ran to its end with its whole output, else why not."""
        cut = []
        for i, code in enumerate(req.cells):
            left = deadline - time.monotonic()
            if left <= 0:
                return f"total_timeout reached: {len(req.cells) - i} of {len(req.cells)} cells not run"
            timeout = min(left, self.timeout(req.cell_timeout)) if req.cell_timeout else left
            cell = wire.cell_result(repl.run(code, timeout_s=timeout))
            out.append(cell)
            if cell.status == "TimeLimitExceeded":
                return f"cell {i} ran past its time limit ({timeout:.3g} s); the cells after it did not run"
            if cell.truncated:
                cut.append(str(i))
        return f"output past the bound, cut in cell(s) {', '.join(cut)}" if cut else ""

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@contextmanager
def sandbox_errors() -> Iterator[None]:
    """The sandbox's exceptions where they enter, as ours: its ToolError (the caller's mistake) a 422 on the
    field its message names (``files: ...``, ``fetch: ...``), SandboxUnavailable a 503 saying why."""
    from sandbox import SandboxUnavailable
    from sandbox.tool import ToolError
    try:
        yield
    except ToolError as exc:
        field = {"fetch": "fetch_files", "compile_timeout": "compile_timeout"}.get(str(exc).split(":", 1)[0], "files")
        raise InvalidInput(str(exc), field) from exc
    except SandboxUnavailable as exc:
        raise ToolUnavailable(f"no sandbox for tool calls: {exc}") from exc
