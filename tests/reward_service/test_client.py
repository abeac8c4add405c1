"""The client: retry policy through httpx's MockTransport (a real transport), batching against the real service."""

from __future__ import annotations

import httpx
import pytest

from reward_service.client import AsyncRewardClient, RewardClient, RewardServiceError

OK = {"results": [{"id": 1, "reward": 1.0, "components": {"accuracy": 1.0}, "status": "ok", "error": None,
                   "details": {}}]}


def flaky(statuses: list[int | Exception]):
    """A transport answering each status in turn (an exception is raised instead), then 200."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        step = statuses[len(calls) - 1] if len(calls) <= len(statuses) else 200
        if isinstance(step, Exception):
            raise step
        headers = {"Retry-After": "0"} if step == 429 else {}
        return httpx.Response(step, json=OK if step == 200 else {"detail": "x"}, headers=headers)
    return handler, calls


def test_retries_connect_errors_429_and_5xx_then_succeeds():
    handler, calls = flaky([httpx.ConnectError("refused"), 503, 429])
    with RewardClient("http://svc", backoff=0, transport=httpx.MockTransport(handler), api_key="k") as client:
        [result] = client.score([{"completion": "x", "answer": "1"}], recipe="r1-zero")
    assert result.reward == 1.0 and len(calls) == 4
    assert calls[0].headers["authorization"] == "Bearer k"


def test_gives_up_after_retries_with_a_clear_error():
    handler, calls = flaky([503] * 10)
    with RewardClient("http://svc", retries=2, backoff=0, transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(RewardServiceError, match="503") as err:
            client.score([{"completion": "x"}])
    assert err.value.status_code == 503 and len(calls) == 3


def test_client_errors_are_not_retried():
    handler, calls = flaky([422])
    with RewardClient("http://svc", backoff=0, transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(RewardServiceError, match="422"):
            client.score([{"completion": "x"}])
    assert len(calls) == 1


async def test_async_client_retries_too():
    handler, calls = flaky([httpx.ReadTimeout("slow"), 502])
    async with AsyncRewardClient("http://svc", backoff=0, transport=httpx.MockTransport(handler)) as client:
        [result] = await client.score([{"completion": "x"}])
    assert result.status == "ok" and len(calls) == 3


def test_unreachable_service_raises_after_retries():
    with RewardClient("http://127.0.0.1:9", retries=1, backoff=0, timeout=2) as client:
        with pytest.raises(RewardServiceError, match="unreachable after 2 attempts"):
            client.score([{"completion": "x"}])


def test_large_batches_are_split_and_kept_in_order(service):
    items = [{"id": i, "completion": f"<think>t</think> <answer>{i % 7}</answer>", "answer": str(i % 5)}
             for i in range(23)]
    with RewardClient(service.url, max_batch=5) as client:
        results = client.score(items, recipe="accuracy")
        assert client.health()["status"] == "ok"
    assert [r.id for r in results] == list(range(23))
    assert [r.reward for r in results] == [float(i % 7 == i % 5) for i in range(23)]


async def test_async_client_against_the_service(service):
    items = [{"id": i, "completion": f"<answer>{i}</answer>", "answer": str(i), "task": "math"} for i in range(9)]
    async with AsyncRewardClient(service.url, max_batch=4) as client:
        results = await client.score(items, recipe="accuracy")
    assert [r.id for r in results] == list(range(9)) and all(r.reward == 1.0 for r in results)
