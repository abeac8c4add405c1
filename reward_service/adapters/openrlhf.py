"""OpenRLHF's custom reward function, backed by the service: works with API keys on.

OpenRLHF (0.10 and later) takes ``--reward.remote_url`` as an HTTP URL *or* the path of a Python file, which
it imports and calls as ``reward_func(queries, prompts, labels, **kwargs)``. Its HTTP client sends no
``Authorization`` header, so with keys on (compose's default) the URL form is 401; this file form reads the
key from the environment, so it appears in no command line and no log::

    export REWARD_SERVICE_URL=http://reward-host:8000 REWARD_API_KEY=...   # REWARD_SERVICE_RECIPE=r1-zero
    python -m openrlhf.cli.train_ppo_ray ... \\
        --reward.remote_url $(python -c "import reward_service.adapters.openrlhf as m; print(m.__file__)")

Each query is the prompt and response decoded together; the response is what follows its prompt, the label
the reference (``task`` from ``REWARD_SERVICE_TASK``, default math). OpenRLHF 0.11 decodes with
``skip_special_tokens=False``, so the response ends in the model's stop token (``<|im_end|>``...): the
service strips it before grading (``details.stripped_tokens``). OpenRLHF wants numbers, so an item the
service could not score gets 0.0, with ``extra_logs["scored"]`` 0 for it. Tested against OpenRLHF 0.11.2's
loader and call (``openrlhf/utils/agent.py``: ``SingleTurnAgentExecutor``).
"""

from __future__ import annotations

import os
from typing import Any

from reward_service.adapters import common
from reward_service.schemas import ItemResult, Status

_client = common.client  # the cached client (tests clear it)


def _row(query: str, prompt: str, label: Any, task: str) -> dict[str, Any] | ItemResult:
    """The service item for one query, or the reason it cannot be sent (a code label that is not tests)."""
    completion = query[len(prompt):] if prompt and query.startswith(prompt) else query
    item: dict[str, Any] = {"completion": completion, "task": task, "prompt": prompt or None}
    if label is None:
        return item
    if task != "code":
        return {**item, "answer": str(common.plain(label))}
    try:
        return {**item, "tests": common.code_tests(label)}
    except ValueError as exc:
        return common.refused(str(exc))


def _rows(queries: list[str], prompts: list[str] | None, labels: list[Any] | None) -> list[dict | ItemResult]:
    task = os.environ.get("REWARD_SERVICE_TASK", "math")
    return [_row(query, (prompts[i] if prompts and i < len(prompts) else "") or "",
                 labels[i] if labels and i < len(labels) else None, task) for i, query in enumerate(queries)]


def _tensor(values: list[float]) -> Any:
    try:
        import torch
    except ImportError:  # outside OpenRLHF (tests, scripts): plain lists
        return values
    return torch.tensor(values, dtype=torch.float32)


def reward_func(queries: list[str], prompts: list[str] | None = None, labels: list[Any] | None = None,
                **_: Any) -> dict[str, Any]:
    """OpenRLHF's contract: ``{"rewards", "scores", "extra_logs"}`` for a batch of queries."""
    recipe = common.recipe()
    results = common.score(_rows(queries, prompts, labels), recipe)
    rewards = [r.reward if r.status is Status.ok and r.reward is not None else 0.0 for r in results]
    logs = {"scored": [1.0 if r.status is Status.ok else 0.0 for r in results]}
    for name in common.component_names(recipe):  # the same keys every call: OpenRLHF merges them
        logs[name] = [r.components.get(name, 0.0) for r in results]
    return {"rewards": _tensor(rewards), "scores": _tensor(rewards),
            "extra_logs": {k: _tensor(v) for k, v in logs.items()}}
