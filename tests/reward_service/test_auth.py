"""API keys, job ownership and rate limits, in process (a fake backend through the GradingBackend Protocol)."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from reward_service.api.app import create_app
from reward_service.api.auth import KeyRing
from reward_service.api.metrics import CountingBackend
from reward_service.schemas import ItemResult
from reward_service.settings import Settings

ITEM = {"id": "x", "task": "none", "completion": "<think>a</think> <answer>b</answer>"}
RECIPE = {"components": {"overlong": {"options": {"max_length": 100, "cache_length": 10}}}}


class FakeBackend:
    """Answers every item with reward 1.0."""

    def __init__(self) -> None:
        self.calls = 0

    async def score(self, items, recipe, *, caller="anonymous"):
        self.calls += 1
        return [ItemResult(id=i.id, reward=1.0, components={"overlong": 1.0}) for i in items]

    def describe(self):
        return {"queue": "fake", "workers": 1}

    async def ready(self):
        return {"ok": True}

    def stats(self):
        return {}

    async def aclose(self):
        pass


def client(**settings) -> TestClient:
    backend = CountingBackend(FakeBackend())
    return TestClient(create_app(Settings(sandbox_backend="none", **settings), backend=backend))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_missing_or_wrong_key_is_401():
    with client(api_keys="alpha,beta") as c:
        body = {"items": [ITEM], "recipe": RECIPE}
        for headers in ({}, bearer("gamma"), {"Authorization": "Basic alpha"}, {"Authorization": "Bearer "}):
            r = c.post("/score", json=body, headers=headers)
            assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
        assert c.post("/score", json=body, headers=bearer("alpha")).status_code == 200
        assert c.post("/get_reward", json={"query": ["q"]}).status_code == 401
        assert c.post("/jobs", json=body).status_code == 401
        for open_path in ("/healthz", "/readyz", "/docs", "/openapi.json"):
            assert c.get(open_path).status_code == 200
        assert c.get("/metrics").status_code == 401  # what every caller sent is not for outsiders


def test_hashed_keys_and_keys_file(tmp_path):
    digest = hashlib.sha256(b"from-file").hexdigest()
    keys = tmp_path / "keys"
    keys.write_text(f"# team keys\nsha256:{digest}  # eval team\nplain-key\n\n")
    with client(api_keys_file=str(keys)) as c:
        body = {"items": [ITEM], "recipe": RECIPE}
        assert c.post("/score", json=body, headers=bearer("from-file")).status_code == 200
        assert c.post("/score", json=body, headers=bearer("plain-key")).status_code == 200
        assert c.post("/score", json=body, headers=bearer(f"sha256:{digest}")).status_code == 401


def test_key_ring_keeps_only_digests():
    ring = KeyRing.from_settings(Settings(api_keys="s3cret", sandbox_backend="none"))
    assert ring.digests == (hashlib.sha256(b"s3cret").digest(),)
    assert ring.identify("s3cret") == hashlib.sha256(b"s3cret").hexdigest()[:16]
    assert ring.identify("s3cre") is None
    with pytest.raises(ValueError):
        KeyRing.from_settings(Settings(api_keys="sha256:abc", sandbox_backend="none"))


def test_a_job_is_visible_only_to_its_key():
    with client(api_keys="alpha,beta") as c:
        r = c.post("/jobs", json={"items": [ITEM, {**ITEM, "id": "y"}], "recipe": RECIPE}, headers=bearer("alpha"))
        assert r.status_code == 202 and r.headers["Location"] == f"/jobs/{r.json()['id']}"
        job_id = r.json()["id"]
        assert c.get(f"/jobs/{job_id}", headers=bearer("beta")).status_code == 404
        assert c.get(f"/jobs/{job_id}").status_code == 401
        assert c.get("/jobs/nope", headers=bearer("alpha")).status_code == 404
        job = c.get(f"/jobs/{job_id}", headers=bearer("alpha")).json()
        assert job["state"] == "done" and job["counts"] == {"ok": 2}
        assert [x["id"] for x in job["results"]] == ["x", "y"]


def test_idempotency_key_returns_the_first_job():
    with client() as c:
        body = {"items": [ITEM], "recipe": RECIPE}
        first = c.post("/jobs", json=body, headers={"Idempotency-Key": "k"}).json()["id"]
        assert c.post("/jobs", json=body, headers={"Idempotency-Key": "k"}).json()["id"] == first
        assert c.post("/jobs", json=body, headers={"Idempotency-Key": "other"}).json()["id"] != first
        assert c.app.state.backend.inner.calls == 2


def test_auth_off_is_loud(caplog):
    caplog.set_level(logging.WARNING)
    with client(host="0.0.0.0") as c:
        assert c.post("/score", json={"items": [ITEM], "recipe": RECIPE}).status_code == 200
    assert any("AUTH IS OFF" in r.getMessage() and "BEYOND LOOPBACK" in r.getMessage() for r in caplog.records)


def test_rate_limit_per_key():
    with client(api_keys="alpha,beta", rate_limit_per_minute=2) as c:
        body = {"items": [ITEM], "recipe": RECIPE}
        assert [c.post("/score", json=body, headers=bearer("alpha")).status_code for _ in range(2)] == [200, 200]
        r = c.post("/score", json=body, headers=bearer("alpha"))
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
        assert c.post("/score", json=body, headers=bearer("beta")).status_code == 200  # its own budget


def test_item_limits_still_hold_on_jobs():
    with client(max_items=2) as c:
        r = c.post("/jobs", json={"items": [ITEM] * 3, "recipe": RECIPE})
        assert r.status_code == 413


@pytest.mark.parametrize(("env", "said"), [
    ({"REWARD_API_KEYS": "change-me-to-a-long-random-token"}, "still holds the placeholder"),  # .env.example's
    ({"REWARD_API_KEYS": "real-key, change-me-to-a-long-random-token"}, "still holds the placeholder"),
    ({"REWARD_WORKERS": "abc"}, "REWARD_WORKERS: Input should be a valid integer"),
])
def test_a_bad_setting_stops_the_service_with_one_line(env, said):
    done = subprocess.run([sys.executable, "-m", "reward_service", "serve", "--port", "1"], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and said in done.stderr and done.stderr.startswith("reward-service:"), \
        done.stderr
