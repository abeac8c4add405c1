"""Auth, job isolation and rate limits on the Redis path: real redis-server, a real worker, two API replicas."""

from __future__ import annotations

import time

import httpx
import pytest

from reward_service import constants as k
from tests.conftest import Service, Workers
from tests.reward_service.test_redis_queue import batch, graded

pytestmark = pytest.mark.redis

ENV = {"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", "REWARD_CHUNK_SIZE": "8",
       "REWARD_API_KEYS": "queue-test-key,other-team-key", "REWARD_RATE_LIMIT_PER_MINUTE": "6"}
A = {"Authorization": "Bearer queue-test-key"}
B = {"Authorization": "Bearer other-team-key"}


@pytest.fixture(scope="module")
def apis(redis_server, tmp_path_factory):
    workers = Workers(redis_server.url, ENV, count=1, log_dir=tmp_path_factory.mktemp("workers"))
    replicas = [Service(ENV, ("--redis-url", redis_server.url)) for _ in range(2)]
    try:
        for api in replicas:
            api.wait_ready()
        yield replicas, redis_server
    finally:
        for api in replicas:
            api.stop()
        workers.stop()


def test_auth_isolation_and_shared_rate_limit(apis):
    (one, two), server = apis
    redis = server.client()
    items, before = batch(20, "auth"), graded(redis)
    body = {"items": items, "recipe": "accuracy"}
    assert httpx.post(one.url + "/jobs", json=body).status_code == 401
    assert httpx.post(one.url + "/jobs", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    r = httpx.post(one.url + "/jobs", json=body, headers=A)  # request 1 of key A
    assert r.status_code == 202
    job_id = r.json()["id"]
    deadline = time.monotonic() + 60  # wait in Redis: polling the API would spend key A's budget
    while redis.hlen(k.results_key(job_id)) < 20:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    job = httpx.get(f"{two.url}/jobs/{job_id}", headers=A).json()  # request 2 of key A, on the other replica
    assert job["state"] == "done"
    assert [x["id"] for x in job["results"]] == [i["id"] for i in items]
    assert graded(redis) - before == 20
    assert httpx.get(f"{two.url}/jobs/{job_id}", headers=B).status_code == 404
    assert httpx.get(f"{one.url}/jobs/{job_id}", headers=B).status_code == 404
    owner = redis.hget(k.job_key(job_id), "owner")
    assert owner and "queue-test-key" not in owner  # a key id, never the key
    codes = [httpx.get(f"{url}/jobs/{job_id}", headers=A).status_code for url in (one.url, two.url) * 4]
    assert 429 in codes  # the per-minute budget of key A is shared by both replicas (it is in Redis)
    assert httpx.get(f"{one.url}/jobs/{job_id}", headers=B).status_code == 404  # key B has its own
