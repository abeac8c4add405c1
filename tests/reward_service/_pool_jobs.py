"""Jobs for the pool tests: importable by dotted name from the grader processes."""

import os
import time


def echo(x):
    return x


def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def die():
    os._exit(3)


def fail():
    raise ValueError("bad input")


def pid():
    return os.getpid()


def answer_phase_then_spin(after):
    """Starts its answer's phase (fallback: score 0), then computes for ``after`` s of CPU (a slow answer)."""
    from reward_service.grading import budget
    from reward_service.grading.types import Grade, Reason
    budget.answer_phase(lambda s: Grade.ok(0.0, Reason.over_budget, f"over its {s:g} s budget"))
    started = time.process_time()
    while time.process_time() - started < after:
        pass
    return "finished"


def answer_phase_then_sleep(before, after):
    """Sleeps ``before`` s, starts its answer's phase (fallback: score 0), then sleeps ``after`` s."""
    from reward_service.grading import budget
    from reward_service.grading.types import Grade, Reason
    time.sleep(before)
    budget.answer_phase(lambda s: Grade.ok(0.0, Reason.over_budget, f"over its {s:g} s budget"))
    time.sleep(after)
    return "finished"
