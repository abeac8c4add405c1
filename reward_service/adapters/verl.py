"""verl custom reward functions backed by the service.

In verl's config::

    custom_reward_function:
      path: <site-packages>/reward_service/adapters/verl.py
      name: compute_score          # per item (NaiveRewardManager)
    # or name: compute_score_batch with reward_model.reward_manager=batch

The service URL, key and recipe come from ``REWARD_SERVICE_URL`` (default http://127.0.0.1:8000),
``REWARD_SERVICE_API_KEY`` and ``REWARD_SERVICE_RECIPE`` (default ``r1-zero``). The task is
``extra_info["task"]`` when given, else guessed from ``data_source`` (``code``/``countdown`` in its name,
else math). verl wants a number, so an item the service could not score returns ``score`` 0.0 with
``scored`` 0.0 beside it for logging; filter on it if that matters to you.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from reward_service.client import RewardClient
from reward_service.schemas import ItemResult, Status


@lru_cache(maxsize=1)
def _client() -> RewardClient:
    return RewardClient(os.environ.get("REWARD_SERVICE_URL", "http://127.0.0.1:8000"),
                        api_key=os.environ.get("REWARD_SERVICE_API_KEY"))


def _task(data_source: str, extra_info: dict[str, Any] | None) -> str:
    if extra_info and extra_info.get("task"):
        return str(extra_info["task"])
    source = (data_source or "").lower()
    return next((t for t in ("code", "countdown") if t in source), "math")


def _item(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict[str, Any] | None) -> dict:
    task = _task(data_source, extra_info)
    item: dict[str, Any] = {"completion": solution_str, "task": task, "source": data_source}
    if task == "code":
        item["tests"] = ground_truth
        item["language"] = (extra_info or {}).get("language", "python")
    else:
        item["answer"] = str(ground_truth)
    if extra_info and extra_info.get("target_language"):
        item["target_language"] = extra_info["target_language"]
    return item


def _as_verl(result: ItemResult) -> dict[str, Any]:
    ok = result.status is Status.ok and result.reward is not None
    return {"score": result.reward if ok else 0.0, "scored": 1.0 if ok else 0.0, **result.components}


def compute_score(data_source: str, solution_str: str, ground_truth: Any,
                  extra_info: dict[str, Any] | None = None, **_: Any) -> dict[str, Any]:
    recipe = os.environ.get("REWARD_SERVICE_RECIPE", "r1-zero")
    [result] = _client().score([_item(data_source, solution_str, ground_truth, extra_info)], recipe)
    return _as_verl(result)


def compute_score_batch(data_sources: list[str], solution_strs: list[str], ground_truths: list[Any],
                        extra_infos: list[dict[str, Any] | None], **_: Any) -> list[dict[str, Any]]:
    recipe = os.environ.get("REWARD_SERVICE_RECIPE", "r1-zero")
    items = [_item(*row) for row in zip(data_sources, solution_strs, ground_truths, extra_infos, strict=True)]
    return [_as_verl(r) for r in _client().score(items, recipe)]
