"""verl custom reward functions backed by the service.

verl 0.9.1 (tested: its ``load_extern_object`` loads this file, its ``naive`` reward manager calls
``compute_score(data_source=, solution_str=, ground_truth=, extra_info=)`` once per response, decoded without
special tokens)::

    reward.custom_reward_function.path=<site-packages>/reward_service/adapters/verl.py
    reward.custom_reward_function.name=compute_score

Older verl (the legacy keys: top-level ``custom_reward_function.path/name``; ``reward_model.reward_manager=
batch`` with ``name=compute_score_batch`` sends a batch in one request). 0.9.1's ``main_ppo`` ignores those
keys and has no ``batch`` manager.

The service URL, key and recipe come from ``REWARD_SERVICE_URL`` (default http://127.0.0.1:8000),
``REWARD_API_KEY`` (``REWARD_SERVICE_API_KEY`` is read too) and ``REWARD_SERVICE_RECIPE`` (default
``r1-zero``). The task is ``extra_info["task"]`` when given, else routed from ``data_source`` as verl's
``default_compute_score`` routes it (:mod:`.verl_sources`), else ``REWARD_SERVICE_TASK`` when set; a source
none of these names is not graded as math by default: it scores 0 with ``scored`` 0 and the reason in
``error``. verl wants a number, so every item the service could not score does the same; every result
has the same keys (``score``, ``scored``, ``error`` and each recipe component), as verl's managers need to
stack them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from reward_service.adapters import common
from reward_service.adapters.verl_sources import route
from reward_service.schemas import ItemResult, Status

log = logging.getLogger(__name__)
_client = common.client  # the cached client (tests clear it)


def _item(data_source: Any, solution_str: str, ground_truth: Any,
          extra_info: dict[str, Any] | None) -> dict[str, Any] | ItemResult:
    """The service item for one row, or the reason it cannot be sent."""
    info = common.plain(extra_info) if isinstance(extra_info, dict) else {}
    source = str(common.plain(data_source) or "")
    task, why = route(source, info.get("task"))
    if task is None:
        log.warning("verl reward: %s", why)
        return common.refused(str(why))
    item: dict[str, Any] = {"completion": solution_str, "task": task, "source": source or None}
    if task == "code":
        try:
            item["tests"] = common.code_tests(ground_truth)
        except ValueError as exc:
            return common.refused(str(exc))
        item["language"] = info.get("language") or "python"
    elif task == "ifeval":  # a label stored as a struct in parquet comes back as a dict: its JSON text
        label = common.plain(ground_truth)
        item["answer"] = label if isinstance(label, str) else json.dumps(label)
    elif task != "none":
        item["answer"] = str(common.plain(ground_truth))
    if info.get("target_language"):
        item["target_language"] = info["target_language"]
    return item


def _as_verl(result: ItemResult, components: tuple[str, ...]) -> dict[str, Any]:
    ok = result.status is Status.ok and result.reward is not None
    return {"score": result.reward if ok else 0.0, "scored": 1.0 if ok else 0.0, "error": result.error or "",
            **{name: result.components.get(name, 0.0) for name in components}}


def compute_score(data_source: str, solution_str: str, ground_truth: Any,
                  extra_info: dict[str, Any] | None = None, **_: Any) -> dict[str, Any]:
    """verl's per-item reward function (the ``naive`` manager; ``reward_kwargs`` are ignored)."""
    recipe = common.recipe()
    [result] = common.score([_item(data_source, solution_str, ground_truth, extra_info)], recipe)
    return _as_verl(result, common.component_names(recipe))


def compute_score_batch(data_sources: list[str], solution_strs: list[str], ground_truths: list[Any],
                        extra_infos: list[dict[str, Any] | None], **_: Any) -> list[dict[str, Any]]:
    """The legacy ``batch`` manager's function: the whole batch in one request."""
    recipe = common.recipe()
    rows = [_item(*row) for row in zip(data_sources, solution_strs, ground_truths, extra_infos, strict=True)]
    names = common.component_names(recipe)
    return [_as_verl(r, names) for r in common.score(rows, recipe)]
