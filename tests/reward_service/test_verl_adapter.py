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
