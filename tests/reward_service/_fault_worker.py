"""A queue worker for the tests: the real worker with two faults injected, so no test switch lives in Settings.

    python -m tests.reward_service._fault_worker --redis-url URL     # same flags as `reward_service worker`

* an item whose completion says ``SLEEP=<seconds>`` holds its grader process that long before it is graded
  (a slow code item without the sandbox);
* an item whose id starts with ``POISON-`` makes the whole worker process exit abruptly (exit code 86) when it
  starts grading (an item that kills workers).

Both are injected from outside: the grader processes run :func:`score_job` instead of the real entry point,
and the engine's per-item method is wrapped. Nothing here is importable from ``reward_service``.
"""

from __future__ import annotations

import os
import re
import sys
import time
from typing import Any

REAL_JOB = "reward_service.scoring.score_job"
POISON_EXIT = 86
_SLEEP = re.compile(r"SLEEP=([0-9.]+)")


def score_job(item: dict[str, Any], recipe: Any, accuracy: dict[str, Any] | None, config: Any) -> dict[str, Any]:
    """Runs in a grader process: sleep when asked (only when the verdict is not already known), then grade."""
    from reward_service.scoring import score_job as real
    completion = item.get("completion")
    match = _SLEEP.search(completion) if isinstance(completion, str) else None
    if match and accuracy is None:
        time.sleep(float(match.group(1)))
    return real(item, recipe, accuracy, config)


def redirect(fn: str) -> str:
    """The grader-process function to run instead of ``fn``."""
    return f"{__name__}.score_job" if fn == REAL_JOB else fn


def install() -> None:
    from reward_service.engine import GradingEngine
    from reward_service.pool import ProcessPool

    arun, score_one = ProcessPool.arun, GradingEngine.score_one

    async def redirected(self: ProcessPool, fn: str, args: tuple[Any, ...], timeout: float, **kw: Any) -> Any:
        return await arun(self, redirect(fn), args, timeout, **kw)

    async def poisoned(self: GradingEngine, item: Any, recipe: Any, **kw: Any) -> Any:
        if str(item.id).startswith("POISON-"):
            print(f"test fault: poison item {item.id} kills this worker", flush=True)
            os._exit(POISON_EXIT)
        return await score_one(self, item, recipe, **kw)

    ProcessPool.arun = redirected  # type: ignore[method-assign]
    GradingEngine.score_one = poisoned  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    from reward_service.cli import main
    sys.exit(main(["worker", *sys.argv[1:]]))
