"""OpenRLHF's file-form reward function (``--reward.remote_url path/to/openrlhf.py``) against a real
service with API keys on: the key comes from the environment, never from a URL or a command line."""

from __future__ import annotations

import pytest

from reward_service.adapters import openrlhf
from tests.conftest import Service

KEY = "k-openrlhf-test"


@pytest.fixture(scope="module")
def keyed_service():
    svc = Service({"REWARD_WORKERS": "1", "REWARD_API_KEYS": KEY, "REWARD_SANDBOX_BACKEND": "none"})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


@pytest.fixture
def env(keyed_service, monkeypatch):
    monkeypatch.setenv("REWARD_SERVICE_URL", keyed_service.url)
    monkeypatch.setenv("REWARD_SERVICE_RECIPE", "accuracy")
    openrlhf._client.cache_clear()
    yield monkeypatch
    openrlhf._client.cache_clear()


def test_reward_func_scores_a_batch_with_the_key_from_the_environment(env, keyed_service):
    env.setenv("REWARD_API_KEY", KEY)
    prompts = ["Q: 1+1? A:", "Q: 2+2? A:", "Q: x? A:"]
    queries = [prompts[0] + " \\boxed{2}", prompts[1] + " \\boxed{5}", prompts[2] + " \\boxed{1}"]
    out = openrlhf.reward_func(queries, prompts, ["2", "4", "\\frac{"])
    rewards = [float(x) for x in out["rewards"]]
    assert rewards == [1.0, 0.0, 0.0] and [float(x) for x in out["scores"]] == rewards
    assert [float(x) for x in out["extra_logs"]["scored"]] == [1.0, 1.0, 0.0]  # an unparseable reference
    assert KEY not in keyed_service.logs()


def test_without_the_key_it_fails_loudly_not_with_zeros(env):
    from reward_service.client import RewardServiceError
    env.delenv("REWARD_API_KEY", raising=False)
    env.delenv("REWARD_SERVICE_API_KEY", raising=False)
    with pytest.raises(RewardServiceError) as err:
        openrlhf.reward_func(["Q \\boxed{2}"], ["Q"], ["2"])
    assert err.value.status_code == 401
