"""The Redis path carries each chunk's owner (the API key id) to the workers, which grade by it: a real
redis-server, the API over HTTP, a real worker process."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from reward_service import constants as k
from tests.conftest import Service, Workers

pytestmark = pytest.mark.redis

KEYS = ("owner-a-key", "owner-b-key")
ENV = {"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", "REWARD_CHUNK_SIZE": "2",
       "REWARD_API_KEYS": ",".join(KEYS)}


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def test_chunks_carry_their_owner_and_workers_grade_them(redis_server, tmp_path):
    api = Service(ENV, ("--redis-url", redis_server.url))
    workers = None
    try:
        api.wait_ready()
        jobs = {}
        for key in KEYS:  # no worker yet: the chunks wait in the stream
            items = [{"id": i, "answer": str(i), "completion": f"\\boxed{{{i}}}"} for i in range(3)]
            r = httpx.post(api.url + "/jobs", json={"items": items, "recipe": "accuracy"},
                           headers={"Authorization": f"Bearer {key}"}, timeout=30)
            assert r.status_code == 202, r.text
            jobs[key] = r.json()["url"]
        owners = [fields["owner"] for _, fields in redis_server.client().xrange(k.STREAM)]
        assert owners == [key_id(KEYS[0])] * 2 + [key_id(KEYS[1])] * 2  # 3 items each, 2 per chunk
        workers = Workers(redis_server.url, ENV, count=1, log_dir=tmp_path)
        for key, url in jobs.items():
            deadline = time.monotonic() + 90
            while (view := httpx.get(api.url + url, headers={"Authorization": f"Bearer {key}"},
                                     timeout=10).json())["state"] != "done":
                assert time.monotonic() < deadline, workers.logs()
                time.sleep(0.2)
            assert [r["reward"] for r in view["results"]] == [1.0, 1.0, 1.0]
    finally:
        if workers is not None:
            workers.stop()
        api.stop()
