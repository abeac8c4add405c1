"""The Redis queue over two Redis servers (cells): two real redis-servers, a worker for each, the API over HTTP.

A job lives on one cell, named in its id; jobs spread over the cells by their load; a cell with no live
worker gets no /score work; a cell whose Redis is down costs only its own jobs, and they come back with it.
"""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

from reward_service import constants as k
from reward_service.queue.cells import cell_of
from reward_service.settings import Settings
from tests.conftest import RedisServer, Service, Workers, need
from tests.reward_service.test_redis_queue import assert_once, batch, graded, submit, wait_job

pytestmark = pytest.mark.redis

KEY = "queue-test-key"  # as test_redis_queue's helpers send it
AUTH = {"Authorization": f"Bearer {KEY}"}
ENV = {"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", "REWARD_CHUNK_SIZE": "4",
       "REWARD_VISIBILITY_TIMEOUT_S": "2", "REWARD_SCORE_TIMEOUT_S": "60", "REWARD_HEARTBEAT_S": "2",
       "REWARD_API_KEYS": KEY}


def workers_alive(url: str) -> float:
    for line in httpx.get(url + "/metrics", headers=AUTH, timeout=10).text.splitlines():
        if line.startswith("reward_workers_alive "):
            return float(line.split()[1])
    return -1.0


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    need(shutil.which("redis-server") is not None, "redis-server is not installed (apt-get install redis-server)")
    servers = [RedisServer(tmp_path_factory.mktemp(f"cell{i}")) for i in range(2)]
    env = {**ENV, "REWARD_REDIS_SHARD_URLS": servers[1].url}
    crew = [Workers(servers[0].url, {**env, "REWARD_WORKER_SHARD": str(i)}, count=1,
                    log_dir=tmp_path_factory.mktemp(f"workers{i}")) for i in range(2)]
    api = Service(env, ("--redis-url", servers[0].url))
    try:
        api.wait_ready()
        deadline = time.monotonic() + 60
        while workers_alive(api.url) != 2.0:  # one a cell, summed
            assert time.monotonic() < deadline, "workers not ready:\n" + "\n".join(w.logs() for w in crew)
            time.sleep(0.2)
        yield api, crew, servers
    finally:
        api.stop()
        for w in crew:
            w.stop()
        for s in servers:
            s.stop()


def test_settings_and_job_ids_name_the_cells():
    settings = Settings(redis_url="redis://a:6379", redis_shard_urls="redis://b:6379, redis://c:6379")
    assert settings.redis_cells() == ["redis://a:6379", "redis://b:6379", "redis://c:6379"]
    for bad, said in [({"redis_shard_urls": "redis://b"}, "needs redis_url"),
                      ({"redis_url": "redis://a", "redis_shard_urls": "http://b"}, "must start with"),
                      ({"redis_url": "redis://a", "redis_shard_urls": "redis://a"}, "different Redis servers"),
                      ({"redis_url": "redis://a", "redis_shard_urls": "redis://b", "worker_shard": 2}, "past the 2")]:
        with pytest.raises(ValueError, match=said):
            Settings(**bad)
    assert cell_of("c1-" + "ab" * 16, 2) == 1 and cell_of("ab" * 16, 2) == 0  # a bare id: from before cells
    assert cell_of("c2-" + "ab" * 16, 2) is None and cell_of("c1-../x", 2) is None


def test_jobs_spread_over_the_cells_and_read_back_from_any(cells):
    api, crew, servers = cells
    for w in crew:
        w.pause()  # chunks wait: each job goes to the cell with fewer waiting per worker
    try:
        jobs = {submit(api.url, batch(8, f"spread{j}")): batch(8, f"spread{j}") for j in range(6)}
    finally:
        for w in crew:
            w.resume()
    on = {i: [j for j in jobs if j.startswith(f"c{i}-")] for i in range(2)}
    assert len(on[0]) == len(on[1]) == 3, jobs.keys()
    for i, ids in on.items():  # each job's record is in its own cell's Redis and nowhere else
        assert all(servers[i].client().exists(k.job_key(j)) and not servers[1 - i].client().exists(k.job_key(j))
                   for j in ids)
    for job_id, items in jobs.items():
        assert_once(items, wait_job(api.url, job_id)["results"])
    assert httpx.get(f"{api.url}/jobs/c7-{'0' * 32}", headers=AUTH, timeout=10).status_code == 404


def test_score_and_idempotency_across_cells(cells):
    api, _, servers = cells
    items = batch(40, "score")
    before = sum(graded(s.client()) for s in servers)
    r = httpx.post(f"{api.url}/score", json={"items": items, "recipe": "accuracy"}, headers=AUTH, timeout=120)
    assert r.status_code == 200 and sum(graded(s.client()) for s in servers) - before == 40
    assert_once(items, r.json()["results"])
    first = submit(api.url, items[:4], **{"Idempotency-Key": "cells-1"})
    assert submit(api.url, items[:4], **{"Idempotency-Key": "cells-1"}) == first  # kept in cell 0, found there
    assert servers[0].client().keys("reward:idem:*") and not servers[1].client().keys("reward:idem:*")


@pytest.mark.slow
def test_a_cell_without_workers_gets_no_score_work_and_a_cell_down_costs_only_its_jobs(cells):
    api, crew, servers = cells
    crew[1].pause()
    try:
        deadline = time.monotonic() + 30
        while workers_alive(api.url) != 1.0:  # cell 1's worker stops heartbeating
            assert time.monotonic() < deadline
            time.sleep(0.2)
        items = batch(24, "one-cell")
        r = httpx.post(f"{api.url}/score", json={"items": items, "recipe": "accuracy"}, headers=AUTH, timeout=120)
        assert r.status_code == 200
        assert_once(items, r.json()["results"])  # all on cell 0: none waits for the paused worker
    finally:
        crew[1].resume()
    deadline = time.monotonic() + 30
    while workers_alive(api.url) != 2.0:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    for w in crew:  # chunks wait, so the second job goes to cell 1; it stays waiting while cell 1 goes down
        w.pause()
    try:
        held = [submit(api.url, batch(4, f"held{n}")) for n in range(2)]
        crew[0].resume()
        on_one = next(j for j in held if j.startswith("c1-"))
        servers[1].stop()
        assert httpx.get(f"{api.url}/jobs/{on_one}", headers=AUTH, timeout=30).status_code == 503
        items = batch(12, "while-down")
        r = httpx.post(f"{api.url}/score", json={"items": items, "recipe": "accuracy"}, headers=AUTH, timeout=120)
        assert r.status_code == 200
        assert_once(items, r.json()["results"])
        assert submit(api.url, batch(4, "new")).startswith("c0-")
        ready = httpx.get(f"{api.url}/readyz", headers=AUTH, timeout=30)
        assert ready.status_code == 503 and ready.json()["cells"][1]["ok"] is False, ready.text
    finally:
        servers[1].start()  # AOF: the job comes back with its cell
        crew[1].resume()
    assert len(wait_job(api.url, on_one)["results"]) == 4


@pytest.mark.slow
def test_an_api_started_while_a_cell_is_down_serves_the_others_then_that_cell(cells):
    _, _, servers = cells
    servers[1].stop()
    late = Service({**ENV, "REWARD_REDIS_SHARD_URLS": servers[1].url}, ("--redis-url", servers[0].url))
    try:
        late.wait_ready()  # it starts: cell 1 is down, not the service
        items = batch(8, "late")
        r = httpx.post(f"{late.url}/score", json={"items": items, "recipe": "accuracy"}, headers=AUTH, timeout=120)
        assert r.status_code == 200
        assert_once(items, r.json()["results"])
        servers[1].start()
        deadline = time.monotonic() + 60
        while workers_alive(late.url) != 2.0:  # cell 1's worker back at its Redis
            assert time.monotonic() < deadline, late.logs()[-3000:]
            time.sleep(0.2)
        ids = [submit(late.url, batch(4, f"back{n}")) for n in range(12)]
        on_one = [j for j in ids if j.startswith("c1-")]
        assert on_one, ids  # ties go either way: 12 tries all on cell 0 would be 1 in 4096
        assert all(len(wait_job(late.url, j)["results"]) == 4 for j in on_one)
    finally:
        late.stop()
        if servers[1].proc is None or servers[1].proc.poll() is not None:
            servers[1].start()
