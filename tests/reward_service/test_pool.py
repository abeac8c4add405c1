"""The grader pool against real processes: a hung job is killed at its limit and the pool keeps serving."""

import asyncio
import os
import time

import pytest

from reward_service.pool import JobFailed, JobTimeout, ProcessPool, WorkerCrashed

JOBS = "tests.reward_service._pool_jobs"


@pytest.fixture(scope="module")
def pool():
    p = ProcessPool(2)
    yield p
    p.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie awaiting its reaper counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_runs_jobs_by_dotted_name(pool):
    assert pool.run(f"{JOBS}.echo", ({"a": [1, 2]},), timeout=10) == {"a": [1, 2]}


def test_hung_job_is_killed_at_its_limit_and_replaced(pool):
    victim = None
    before = pool.replaced
    started = time.monotonic()
    with pytest.raises(JobTimeout, match="exceeded 0.5 s"):
        victim = pool.run(f"{JOBS}.sleep_then", (60, "late"), timeout=0.5)
    assert time.monotonic() - started < 30  # killed, not waited for (how close to 0.5 s: bench/)
    assert victim is None and pool.replaced == before + 1
    # The pool is back to full size and both workers answer.
    results = [pool.run(f"{JOBS}.echo", (i,), timeout=30) for i in range(4)]
    assert results == [0, 1, 2, 3]


def test_killed_worker_process_is_gone(pool):
    pids_before = set(pool.pids())
    with pytest.raises(JobTimeout):
        pool.run(f"{JOBS}.sleep_then", (60, None), timeout=0.3)
    deadline = time.monotonic() + 30
    while len(pool.pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    gone = pids_before - set(pool.pids())
    assert len(gone) == 1 and not _alive(gone.pop())


def test_crashed_worker_is_reported_and_replaced(pool):
    with pytest.raises(WorkerCrashed, match="exit code 3"):
        pool.run(f"{JOBS}.die", (), timeout=10)
    assert pool.run(f"{JOBS}.echo", ("still here",), timeout=30) == "still here"


def test_job_exception_keeps_the_worker(pool):
    replaced = pool.replaced
    with pytest.raises(JobFailed, match="ValueError: bad input"):
        pool.run(f"{JOBS}.fail", (), timeout=10)
    assert pool.replaced == replaced


async def test_async_jobs_run_in_parallel_and_a_hang_does_not_block_others(pool):
    hung = asyncio.ensure_future(pool.arun(f"{JOBS}.sleep_then", (60, None), 2.0))
    quick = [await pool.arun(f"{JOBS}.sleep_then", (0.05, i), 10) for i in range(5)]
    assert quick == list(range(5))
    assert not hung.done()  # the quick jobs went around the hung one
    with pytest.raises(JobTimeout):
        await hung


def test_respawn_threads_do_not_pile_up(pool):
    for _ in range(12):
        with pytest.raises(WorkerCrashed):
            pool.run(f"{JOBS}.die", (), timeout=10)
    assert [pool.run(f"{JOBS}.echo", (i,), timeout=30) for i in range(2)] == [0, 1]
    deadline = time.monotonic() + 30
    while pool.respawning() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.respawning() == 0 and len(pool._respawns) <= pool.size  # finished ones are dropped


def test_a_failing_respawn_backs_off_and_recovers(monkeypatch):
    import reward_service.pool as pool_module
    p = ProcessPool(1, respawn_backoff=(0.05, 0.4))
    try:
        real, attempts = pool_module._Worker, []

        def broken(*args, **kwargs):
            attempts.append(time.monotonic())
            raise OSError("fork failed")

        monkeypatch.setattr(pool_module, "_Worker", broken)
        with pytest.raises(WorkerCrashed):
            p.run(f"{JOBS}.die", (), timeout=10)
        time.sleep(1.5)
        # 0.05, 0.1, 0.2, 0.4, 0.4, ... s apart: a handful of tries, not a busy loop.
        assert 3 <= len(attempts) <= 8, len(attempts)
        monkeypatch.setattr(pool_module, "_Worker", real)
        assert p.run(f"{JOBS}.echo", ("back",), timeout=30) == "back"
    finally:
        p.close()
