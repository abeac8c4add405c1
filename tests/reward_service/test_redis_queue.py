"""The Redis queue end to end: a real redis-server, real worker processes, the API over real HTTP.

Every test checks that every item is answered exactly once: the results come back complete and in order,
and the workers' per-item counter in Redis grew by exactly the number of items (a redelivered chunk that
answered an item twice would count it twice).
"""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from reward_service import constants as k
from reward_service.client import RewardClient
from tests.conftest import Service, Workers

pytestmark = pytest.mark.redis

KEY = "queue-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
ENV = {"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", "REWARD_CHUNK_SIZE": "4",
       "REWARD_VISIBILITY_TIMEOUT_S": "2", "REWARD_MAX_DELIVERIES": "2", "REWARD_SCORE_TIMEOUT_S": "60",
       "REWARD_API_KEYS": KEY}


def batch(n: int, tag: str) -> list[dict]:
    """Math items; every third one is answered wrong."""
    return [{"id": f"{tag}-{i}", "task": "math", "answer": str(i),
             "completion": f"<think>sum</think> <answer>\\boxed{{{i if i % 3 else i + 1}}}</answer>"}
            for i in range(n)]


def graded(redis) -> int:
    return sum(int(v) for f, v in redis.hgetall(k.STATS).items() if f.startswith("items:"))


def assert_once(items: list[dict], results: list[dict], expect_ok: bool = True) -> None:
    assert [r["id"] for r in results] == [i["id"] for i in items]
    if expect_ok:
        for item, result in zip(items, results, strict=True):
            assert result["status"] == "ok", result
            assert result["reward"] == (1.0 if int(item["answer"]) % 3 else 0.0)


def wait_job(url: str, job_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{url}/jobs/{job_id}", headers=AUTH, timeout=10)
            if r.status_code == 200 and r.json()["state"] == "done":
                return r.json()
            assert r.status_code in (200, 429, 503), r.text  # 503 while Redis restarts; 429 past a rate limit
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not done after {timeout} s")


def submit(url: str, items: list[dict], **headers: str) -> str:
    r = httpx.post(f"{url}/jobs", json={"items": items, "recipe": "accuracy"}, headers={**AUTH, **headers},
                   timeout=30)
    assert r.status_code == 202, r.text
    return r.json()["id"]


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    workers = Workers(redis_server.url, ENV, count=2, log_dir=tmp_path_factory.mktemp("workers"))
    api = Service(ENV, ("--redis-url", redis_server.url))
    try:
        api.wait_ready()
        deadline = time.monotonic() + 60
        while "reward_workers_alive 2.0" not in httpx.get(api.url + "/metrics", headers=AUTH).text:  # both, not the first
            assert time.monotonic() < deadline, "the workers did not both become ready:\n" + workers.logs()
            time.sleep(0.2)
        yield api, workers, redis_server
    finally:
        api.stop()
        workers.stop()


def test_score_through_redis_answers_every_item_once(stack):
    api, _, server = stack
    redis = server.client()
    items, before = batch(50, "plain"), graded(redis)
    r = httpx.post(api.url + "/score", json={"items": items, "recipe": "accuracy"}, headers=AUTH, timeout=60)
    assert r.status_code == 200, r.text
    assert_once(items, r.json()["results"])
    assert graded(redis) - before == 50
    assert httpx.get(api.url + "/healthz").json()["queue"] == "redis"
    metrics = httpx.get(api.url + "/metrics", headers=AUTH).text
    assert 'reward_items_graded_total{status="ok",task="math"}' in metrics
    assert "reward_queue_depth" in metrics and "reward_workers_alive 2.0" in metrics


def test_jobs_with_idempotency_key(stack):
    api, _, server = stack
    redis = server.client()
    items, before = batch(10, "idem"), graded(redis)
    first = submit(api.url, items, **{"Idempotency-Key": "eval-42"})
    assert submit(api.url, items, **{"Idempotency-Key": "eval-42"}) == first
    job = wait_job(api.url, first)
    assert job["total"] == job["done"] == 10 and job["counts"] == {"ok": 10}
    assert_once(items, job["results"])
    assert graded(redis) - before == 10  # the second POST graded nothing


@pytest.mark.slow
def test_worker_killed_mid_chunk_is_taken_over(stack):
    api, workers, server = stack
    redis = server.client()
    items, before = batch(400, "kill"), graded(redis)
    job_id = submit(api.url, items)
    victim = None
    deadline = time.monotonic() + 20
    while victim is None and time.monotonic() < deadline:
        for entry in redis.xpending_range(k.STREAM, k.GROUP, "-", "+", 10):
            victim = int(entry["consumer"].rsplit("-", 2)[1])  # consumer names are host-pid-random
            break
    assert victim is not None, "no chunk was ever in flight"
    os.kill(victim, signal.SIGKILL)
    job = wait_job(api.url, job_id)
    assert_once(items, job["results"])
    assert graded(redis) - before == 400
    assert -signal.SIGKILL in workers.exits
    assert "took over chunk" in workers.logs()
    assert redis.xlen(k.STREAM) == 0


@pytest.mark.slow
def test_poison_item_is_answered_error_after_bounded_retries(stack):
    api, workers, server = stack
    redis = server.client()
    items, before = batch(10, "poison"), graded(redis)
    items[3]["id"] = "POISON-3"  # the test fault makes the worker exit abruptly when it starts grading it
    items[3]["completion"] += " (never seen before: not in any cache)"
    crashes = workers.exits.count(86)
    r = httpx.post(api.url + "/score", json={"items": items, "recipe": "accuracy"}, headers=AUTH, timeout=90)
    results = r.json()["results"]
    assert [x["id"] for x in results] == [i["id"] for i in items]
    assert results[3]["status"] == "error" and "stopped the worker 2 times" in results[3]["error"]
    assert_once(items[:3] + items[4:], results[:3] + results[4:])
    assert graded(redis) - before == 10
    assert workers.exits.count(86) - crashes == 2  # max_deliveries, not forever


@pytest.mark.slow
def test_backpressure_429_and_score_timeout_never_drop_items(stack):
    api, workers, server = stack
    redis = server.client()
    small = Service({**ENV, "REWARD_QUEUE_MAX_DEPTH": "3", "REWARD_SCORE_TIMEOUT_S": "2"},
                    ("--redis-url", server.url))
    try:
        small.wait_ready()
        before = graded(redis)
        workers.pause()
        try:
            stuck = batch(4, "late")
            r = httpx.post(small.url + "/score", json={"items": stuck, "recipe": "accuracy"}, headers=AUTH,
                           timeout=30)
            late = r.json()["results"]  # nobody graded them in time: every one says so
            assert [x["id"] for x in late] == [i["id"] for i in stuck]
            assert all(x["status"] == "error" and "not graded within" in x["error"] for x in late)
            queued = batch(8, "queued")
            job_id = submit(api.url, queued)  # 2 more chunks: the depth is now 3
            r = httpx.post(small.url + "/score", json={"items": batch(4, "over")}, headers=AUTH, timeout=30)
            assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        finally:
            workers.resume()
        over = batch(4, "over")
        with RewardClient(small.url, api_key=KEY, retries=20, backoff=0.5) as client:
            results = [x.model_dump(mode="json") for x in client.score(over, recipe="accuracy")]
        assert_once(over, results)
        assert_once(queued, wait_job(api.url, job_id)["results"])
        assert graded(redis) - before == 12  # the timed-out job's chunk was skipped, not graded
    finally:
        small.stop()


@pytest.mark.slow
def test_redis_restart_in_flight_job_completes(stack):
    api, _, server = stack
    items, before = batch(600, "restart"), graded(server.client())
    job_id = submit(api.url, items)
    deadline = time.monotonic() + 20
    while server.client().hlen(k.results_key(job_id)) == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    server.restart(down_s=1.0)
    job = wait_job(api.url, job_id)
    assert_once(items, job["results"])
    assert graded(server.client()) - before == 600


@pytest.mark.slow
def test_api_restart_finished_job_still_readable(stack):
    _, _, server = stack
    items = batch(12, "api")
    first = Service(ENV, ("--redis-url", server.url))
    try:
        first.wait_ready()
        job_id = submit(first.url, items)
        done = wait_job(first.url, job_id)
    finally:
        first.stop()
    second = Service(ENV, ("--redis-url", server.url))
    try:
        second.wait_ready()
        again = httpx.get(f"{second.url}/jobs/{job_id}", headers=AUTH, timeout=10).json()
        assert again["results"] == done["results"] and again["state"] == "done"
        assert_once(items, again["results"])
    finally:
        second.stop()
