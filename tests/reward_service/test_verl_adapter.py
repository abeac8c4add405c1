"""verl's custom reward function convention, against the running service."""

from reward_service.adapters import verl


def test_compute_score_and_batch(service, monkeypatch):
    monkeypatch.setenv("REWARD_SERVICE_URL", service.url)
    monkeypatch.setenv("REWARD_SERVICE_RECIPE", "accuracy")
    verl._client.cache_clear()
    try:
        assert verl.compute_score("openai/gsm8k", "so \\boxed{12}", "12")["score"] == 1.0
        out = verl.compute_score_batch(["math", "math"], ["\\boxed{1}", "\\boxed{2}"], ["1", "\\frac{"], [None, None])
        assert out[0] == {"score": 1.0, "scored": 1.0, "accuracy": 1.0}
        assert out[1]["score"] == 0.0 and out[1]["scored"] == 0.0  # unparseable reference: not scored
    finally:
        verl._client.cache_clear()


def test_verl_batch_reward_manager_makes_one_request_per_batch(service, monkeypatch):
    """verl's BatchRewardManager (reward_manager: batch) calls the function with keyword arguments holding
    numpy object arrays; the whole batch goes in one request."""
    import numpy as np

    from tests.trainer.conftest import scored_counts
    monkeypatch.setenv("REWARD_SERVICE_URL", service.url)
    monkeypatch.setenv("REWARD_SERVICE_RECIPE", "accuracy")
    verl._client.cache_clear()
    n = 48
    try:
        before = scored_counts(service.url)
        out = verl.compute_score_batch(
            data_sources=np.array(["openai/gsm8k"] * n, dtype=object),
            solution_strs=np.array([f"so \\boxed{{{i}}}" for i in range(n)], dtype=object),
            ground_truths=np.array([str(i % 2) for i in range(n)], dtype=object),
            extra_infos=np.array([{"index": i} for i in range(n)], dtype=object))
        after = scored_counts(service.url)
    finally:
        verl._client.cache_clear()
    assert [o["score"] for o in out[:3]] == [1.0, 1.0, 0.0] and len(out) == n
    assert after[0] - before[0] == 1  # one POST /score for the 48 items
