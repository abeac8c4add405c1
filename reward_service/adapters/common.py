"""What the framework adapters share: the client from the environment, their data made plain, one request.

An item an adapter cannot send (a code reference that is not JSON, an unknown task) is answered here as an
``invalid`` result with the reason, and the rest of the batch is still sent: one bad row never costs a batch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, cast

from reward_service import recipes
from reward_service.client import RewardClient
from reward_service.schemas import ItemResult, ScoreItem, Status

TASKS = ("math", "code", "countdown", "ifeval", "none")


@lru_cache(maxsize=1)
def client() -> RewardClient:
    """``REWARD_SERVICE_URL`` with the key in ``REWARD_API_KEY`` (``REWARD_SERVICE_API_KEY`` is read too)."""
    key = os.environ.get("REWARD_API_KEY") or os.environ.get("REWARD_SERVICE_API_KEY")
    return RewardClient(os.environ.get("REWARD_SERVICE_URL", "http://127.0.0.1:8000"), api_key=key)


def recipe() -> str:
    return os.environ.get("REWARD_SERVICE_RECIPE", "r1-zero")


@lru_cache(maxsize=8)
def component_names(name: str) -> tuple[str, ...]:
    """The recipe's components: the frameworks merge per-call logs by key, so every call reports all of them."""
    return tuple(sorted(c.name for c in recipes.resolve(name, name).components))


def plain(value: Any) -> Any:
    """``value`` with numpy arrays and scalars (what parquet rows hold) as lists and numbers, for JSON."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy array or scalar
        return plain(value.tolist())
    return value


def code_tests(reference: Any) -> dict[str, Any] | list[Any]:
    """A code reference as the service takes it; parquet files hold it as a JSON string. ValueError: why not."""
    reference = plain(reference)
    if isinstance(reference, bytes):
        reference = reference.decode("utf-8", "replace")
    if isinstance(reference, str):
        try:
            reference = json.loads(reference)
        except ValueError as exc:
            raise ValueError(f"code ground truth is a string that is not JSON ({exc})") from None
    if not isinstance(reference, dict | list):
        raise ValueError(f"code ground truth must be tests (an object or a list), not {type(reference).__name__}")
    return reference


def refused(reason: str) -> ItemResult:
    return ItemResult(reward=None, status=Status.invalid, error=reason)


def score(rows: Sequence[dict[str, Any] | ScoreItem | ItemResult], recipe_name: str) -> list[ItemResult]:
    """Results in the order of ``rows``: the items in one request, the refused as they are."""
    sent = [(i, row) for i, row in enumerate(rows) if not isinstance(row, ItemResult)]
    answers = client().score([row for _, row in sent], recipe_name) if sent else []
    out = list(rows)
    for (i, _), result in zip(sent, answers, strict=True):
        out[i] = result
    return cast(list[ItemResult], out)
