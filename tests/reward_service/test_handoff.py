"""Workers that stop while they grade: SIGTERM hands work back without charging it, SIGKILL costs at most a
visibility timeout, and with no worker at all ``/score`` says so at once.

Real redis-server, real worker processes (with the test faults of ``_fault_worker.py``: an item whose
completion says ``SLEEP=<s>`` holds its grader that long, like a slow code item), the API over HTTP.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import threading
import time

import httpx
import pytest

from reward_service import constants as k
from tests.conftest import Service, Workers
from tests.reward_service.test_redis_queue import AUTH, KEY, submit, wait_job

pytestmark = [pytest.mark.redis, pytest.mark.slow]

VISIBILITY_S = 2.0
HEARTBEAT_S = 2.0  # the default: a worker counts as alive while its last heartbeat is this recent
ENV = {"REWARD_WORKERS": "4", "REWARD_SANDBOX_BACKEND": "none", "REWARD_CHUNK_SIZE": "32",
       "REWARD_VISIBILITY_TIMEOUT_S": str(VISIBILITY_S), "REWARD_SCORE_TIMEOUT_S": "150",
       "REWARD_API_KEYS": KEY, "REWARD_LOG_FORMAT": "text"}
_numbers = itertools.count(int(time.time()) % 100_000 * 1000)


def slow_items(n: int, seconds: float, tag: str) -> list[dict]:
    """Math items answered right, each holding its grader ``seconds``; unique, so nothing is cached."""
    items = []
    for _ in range(n):
        x = next(_numbers)
        items.append({"id": f"{tag}-{x}", "task": "math", "answer": str(x),
                      "completion": f"<think>SLEEP={seconds} work</think> <answer>\\boxed{{{x}}}</answer>"})
    return items


def assert_all_right(items: list[dict], results: list[dict]) -> None:
    assert [r["id"] for r in results] == [i["id"] for i in items]
    bad = [r for r in results if r["status"] != "ok" or r["reward"] != 1.0]
    assert not bad, bad[:3]


def holders(redis) -> set[str]:
    """Consumers holding entries right now."""
    return {e["consumer"] for e in redis.xpending_range(k.STREAM, k.GROUP, "-", "+", 100)}


def pid_of(consumer: str) -> int:
    return int(consumer.rsplit("-", 2)[1])  # consumer names are host-pid-random


def wait_for(condition, timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s: {what}")


def alive_pids(redis) -> set[int]:
    fresh = redis.zrangebyscore(k.WORKERS, time.time() - HEARTBEAT_S, "+inf")
    return {pid_of(name) for name in fresh}


def wait_all_alive(redis, workers: Workers) -> None:
    wait_for(lambda: {p.pid for p in workers.procs} <= alive_pids(redis), 90, "every worker heartbeating",
             every=0.2)


def score_in_background(url: str, items: list[dict]) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        started = time.monotonic()
        r = httpx.post(url + "/score", json={"items": items, "recipe": "accuracy"}, headers=AUTH, timeout=300)
        out["elapsed"] = time.monotonic() - started
        out["status"], out["body"] = r.status_code, r.json()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    workers = Workers(redis_server.url, ENV, count=2, log_dir=tmp_path_factory.mktemp("workers"))
    api = Service(ENV, ("--redis-url", redis_server.url))
    try:
        api.wait_ready()
        wait_all_alive(redis_server.client(), workers)
        yield api, workers, redis_server
    finally:
        api.stop()
        workers.stop()


def test_sigterm_finishes_the_items_in_flight_and_hands_back_the_rest_uncharged(stack):
    api, workers, server = stack
    redis = server.client()
    wait_all_alive(redis, workers)
    items = slow_items(6, 4.0, "term")  # one chunk; 4 graders: 4 start at once, 2 wait
    job_id = submit(api.url, items)
    consumer = wait_for(lambda: next(iter(holders(redis)), None), 20, "the chunk in flight")
    time.sleep(0.5)  # 4 items are grading now
    exits = len(workers.exits)
    started = time.monotonic()
    os.kill(pid_of(consumer), signal.SIGTERM)
    job = wait_job(api.url, job_id, timeout=60)
    elapsed = time.monotonic() - started
    print(f"SIGTERM with 4 four-second items in flight and 2 waiting: job done {elapsed:.1f} s later")
    assert_all_right(items, job["results"])
    # The 4 in flight finished on the stopping worker; the 2 it had not started were handed back and graded by
    # the other one, uncharged (a takeover after the visibility timeout would have charged them twice).
    assert set(redis.hvals(k.attempts_key(job_id))) == {"1"}  # every item started once: nothing charged
    wait_for(lambda: len(workers.exits) > exits, 30, "the stopped worker exits")
    assert workers.exits[exits] == 0
    names = {c["name"] for c in redis.xinfo_consumers(k.STREAM, k.GROUP)}
    assert consumer not in names  # it handed back what it held, then left the group
    assert re.search(r"handed back 1 chunk", workers.logs())


def test_rolling_deploys_never_turn_a_long_item_into_an_error(stack):
    api, workers, server = stack
    redis = server.client()
    jobs = []
    exits = len(workers.exits)
    stopped: set[int] = set()
    for step in range(6):  # three deploys of two workers, like a rolling update
        # Each step brings its own work: a step that only waited for the previous step's job could find it done
        # (handed back, finished by the other worker) and nothing left in flight to stop a worker under.
        wait_all_alive(redis, workers)
        items = slow_items(6, 3.0, f"deploy{step}")
        jobs.append((items, submit(api.url, items)))
        live = {p.pid for p in workers.procs} - stopped
        holder = wait_for(lambda live=live: next((c for c in holders(redis) if pid_of(c) in live), None), 20,
                          "work in flight on a live worker")
        time.sleep(0.5)
        stopped.add(pid_of(holder))
        os.kill(pid_of(holder), signal.SIGTERM)
    for items, job_id in jobs:
        job = wait_job(api.url, job_id, timeout=120)
        assert_all_right(items, job["results"])
        assert set(redis.hvals(k.attempts_key(job_id))) == {"1"}
    wait_for(lambda: len(workers.exits) >= exits + 6, 60, "every stopped worker exits")
    assert workers.exits[exits:] == [0] * 6  # every worker drained and exited cleanly


def test_a_killed_worker_costs_at_most_a_visibility_timeout(stack):
    api, workers, server = stack
    redis = server.client()
    wait_all_alive(redis, workers)
    plain = slow_items(64, 1.0, "nokill")  # 2 chunks of 32; 2 workers of 4 graders: 8 s
    thread, calm = score_in_background(api.url, plain)
    thread.join()
    assert calm["status"] == 200
    assert_all_right(plain, calm["body"]["results"])

    wait_all_alive(redis, workers)
    items = slow_items(64, 1.0, "kill")
    thread, out = score_in_background(api.url, items)
    wait_for(lambda: holders(redis), 20, "work in flight")
    time.sleep(2.5)
    victim = sorted(holders(redis))[0]
    os.kill(pid_of(victim), signal.SIGKILL)
    thread.join()
    assert out["status"] == 200
    assert_all_right(items, out["body"]["results"])
    assert "took over chunk" in workers.logs()  # taken over, not waited out until /score gave up
    # How long it costs is measured, not asserted (machines are noisy): bench/load.py's fault row. Here it
    # printed 8.5 s calm and 10.8 s with the kill (target: <= 2x calm + the visibility timeout).
    print(f"64 one-second items, 2 workers x 4 graders: {calm['elapsed']:.1f} s calm, "
          f"{out['elapsed']:.1f} s with a worker SIGKILLed mid-batch")


def test_no_worker_alive_is_503_at_once_and_a_dead_worker_leaves_the_gauge_quickly(redis_server, tmp_path):
    url = redis_server.url.rsplit("/", 1)[0] + "/3"  # a database no worker has ever used
    api = Service(ENV, ("--redis-url", url))
    workers = None
    try:
        api.wait_ready()
        started = time.monotonic()
        r = httpx.post(api.url + "/score", json={"items": slow_items(1, 0, "none")}, headers=AUTH, timeout=30)
        assert r.status_code == 503 and "no queue worker" in r.json()["detail"]
        assert time.monotonic() - started < 5  # at once, not after score_timeout_s

        def gauge() -> float:
            text = httpx.get(api.url + "/metrics", headers=AUTH, timeout=10).text
            return float(re.search(r"^reward_workers_alive (\S+)$", text, re.M).group(1))

        workers = Workers(url, ENV, count=1, log_dir=tmp_path, restart=False)
        wait_for(lambda: gauge() == 1.0, 90, "the worker counted", every=0.2)
        workers.signal(0, signal.SIGKILL)
        killed = time.monotonic()
        wait_for(lambda: gauge() == 0.0, 30, "the gauge drops", every=0.05)
        print(f"reward_workers_alive dropped {time.monotonic() - killed:.2f} s after the SIGKILL")
        # Within a heartbeat interval in practice (printed); the bound only has to tell it from minutes.
        assert time.monotonic() - killed <= 3 * HEARTBEAT_S
    finally:
        api.stop()
        if workers is not None:
            workers.stop()
