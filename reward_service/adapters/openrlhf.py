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

from pydantic import ValidationError

from reward_service.adapters import common
from reward_service.schemas import ItemResult, ScoreItem, Status

_client = common.client  # the cached client (tests clear it)


def items(queries: list[str], prompts: list[str] | None, labels: list[Any] | None,
          task: str) -> list[ScoreItem | ItemResult]:
    """OpenRLHF's batch as service items, for both of its forms (this file's :func:`reward_func` and the
    ``/get_reward`` URL): the response is what follows its prompt, the label the reference (``answer``; a code
    item's tests, given as JSON). A query that cannot be sent is its ``invalid`` result, with the reason."""
    return [_item(query, (prompts[i] if prompts and i < len(prompts) else "") or "",
                  labels[i] if labels and i < len(labels) else None, task) for i, query in enumerate(queries)]


def _item(query: str, prompt: str, label: Any, task: str) -> ScoreItem | ItemResult:
    completion = query[len(prompt):] if prompt and query.startswith(prompt) else query
    row: dict[str, Any] = {"completion": completion, "task": task, "prompt": prompt or None}
    try:
        if label is not None and task == "code":
            row["tests"] = common.code_tests(label)
        elif label is not None:
            row["answer"] = str(common.plain(label))
        return ScoreItem.model_validate(row)
    except ValidationError as exc:
        first = exc.errors()[0]
        return common.refused(f"not a valid item: {'.'.join(map(str, first['loc']))}: {first['msg']}")
    except ValueError as exc:  # a code label that is not tests
        return common.refused(str(exc))


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
    results = common.score(items(queries, prompts, labels, os.environ.get("REWARD_SERVICE_TASK", "math")), recipe)
    rewards = [r.reward if r.status is Status.ok and r.reward is not None else 0.0 for r in results]
    logs = {"scored": [1.0 if r.status is Status.ok else 0.0 for r in results]}
    for name in common.component_names(recipe):  # the same keys every call: OpenRLHF merges them
        logs[name] = [r.components.get(name, 0.0) for r in results]
    return {"rewards": _tensor(rewards), "scores": _tensor(rewards),
            "extra_logs": {k: _tensor(v) for k, v in logs.items()}}
