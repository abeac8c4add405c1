"""OpenRLHF's custom reward function, backed by the service: works with API keys on.

OpenRLHF (0.10 and later) takes ``--reward.remote_url`` as an HTTP URL *or* the path of a Python file, which
it imports and calls as ``reward_func(queries, prompts, labels, **kwargs)``. Its HTTP client sends no
``Authorization`` header, so with keys on (compose's default) the URL form is 401; this file form reads the
key from the environment, so it appears in no command line and no log::

    export REWARD_SERVICE_URL=http://reward-host:8000 REWARD_API_KEY=...   # REWARD_SERVICE_RECIPE=r1-zero
    python -m openrlhf.cli.train_ppo_ray ... \\
        --reward.remote_url $(python -c "import reward_service.adapters.openrlhf as m; print(m.__file__)")

Each query is the prompt and response decoded together; the response is what follows its prompt, the label
the reference (``task`` from ``REWARD_SERVICE_TASK``, default math). OpenRLHF wants numbers, so an item the
service could not score gets 0.0, with ``extra_logs["scored"]`` 0 for it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from reward_service.client import RewardClient
from reward_service.schemas import ItemResult, Status


@lru_cache(maxsize=1)
def _client() -> RewardClient:
    key = os.environ.get("REWARD_API_KEY") or os.environ.get("REWARD_SERVICE_API_KEY")
    return RewardClient(os.environ.get("REWARD_SERVICE_URL", "http://127.0.0.1:8000"), api_key=key)


def _items(queries: list[str], prompts: list[str] | None, labels: list[Any] | None) -> list[dict[str, Any]]:
    task = os.environ.get("REWARD_SERVICE_TASK", "math")
    items = []
    for i, query in enumerate(queries):
        prompt = (prompts[i] if prompts and i < len(prompts) else "") or ""
        label = labels[i] if labels and i < len(labels) else None
        completion = query[len(prompt):] if prompt and query.startswith(prompt) else query
        item: dict[str, Any] = {"id": i, "completion": completion, "task": task, "prompt": prompt or None}
        if label is not None:
            item["tests" if task == "code" else "answer"] = label if task == "code" else str(label)
        items.append(item)
    return items


def _tensor(values: list[float]) -> Any:
    try:
        import torch
    except ImportError:  # outside OpenRLHF (tests, scripts): plain lists
        return values
    return torch.tensor(values, dtype=torch.float32)


def reward_func(queries: list[str], prompts: list[str] | None = None, labels: list[Any] | None = None,
                **_: Any) -> dict[str, Any]:
    """OpenRLHF's contract: ``{"rewards", "scores", "extra_logs"}`` for a batch of queries."""
    results: list[ItemResult] = _client().score(_items(queries, prompts, labels),
                                                 os.environ.get("REWARD_SERVICE_RECIPE", "r1-zero"))
    rewards = [r.reward if r.status is Status.ok and r.reward is not None else 0.0 for r in results]
    logs = {"scored": [1.0 if r.status is Status.ok else 0.0 for r in results]}
    for name in sorted({c for r in results for c in r.components}):
        logs[name] = [r.components.get(name, 0.0) for r in results]
    return {"rewards": _tensor(rewards), "scores": _tensor(rewards),
            "extra_logs": {k: _tensor(v) for k, v in logs.items()}}
