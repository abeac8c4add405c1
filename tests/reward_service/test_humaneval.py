"""HumanEval over HTTP, its tests as written: every canonical solution passes its own ``check``, every one
with its body replaced by ``return None`` fails, and the assert-style exploits of the probe's catalogue earn
nothing. Real data (../shared/data/HumanEval.jsonl.gz), the real service, the real sandbox."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest

from reward_service.probe import CATALOGUE
from tests.conftest import SHARED_DATA, need

pytestmark = pytest.mark.slow
HUMANEVAL = SHARED_DATA / "HumanEval.jsonl.gz"


def problems() -> list[dict]:
    need(HUMANEVAL.is_file(), f"HumanEval not found at {HUMANEVAL}")
    with gzip.open(HUMANEVAL, "rt") as lines:
        return [json.loads(line) for line in lines]


def item(problem: dict, body: str, tag: str, fence: str) -> dict:
    code = problem["prompt"] + body
    return {"id": f"{problem['task_id']}/{tag}", "task": "code", "language": "python",
            "tests": {"check": problem["test"], "entry_point": problem["entry_point"]},
            "completion": f"<think>I will write it.</think>\nHere it is:\n```{fence}\n{code}\n```"}


def score(url: str, items: list[dict]) -> dict[str, dict]:
    r = httpx.post(url + "/score", json={"items": items, "recipe": "accuracy"}, timeout=600)
    assert r.status_code == 200, r.text[:500]
    return {res["id"]: res for res in r.json()["results"]}


def test_canonical_solutions_pass_and_return_none_fails(code_service):
    data = problems()
    assert len(data) == 164
    fences = ["python", "py", ""]  # vary how the completion tags its block
    items = [item(p, p["canonical_solution"], "canonical", fences[i % 3]) for i, p in enumerate(data)]
    items += [item(p, "    return None\n", "none", fences[(i + 1) % 3]) for i, p in enumerate(data)]
    results = score(code_service.url, items)
    failed = [(k, r["details"]["accuracy"]) for k, r in results.items() if k.endswith("canonical") and r["reward"] != 1.0]
    assert not failed, failed[:3]
    passed = [k for k, r in results.items() if k.endswith("none") and r["reward"] != 0.0]
    assert not passed, passed[:5]
    assert all(r["status"] == "ok" for r in results.values())


def test_assert_exploits_earn_nothing_over_http(code_service):
    exploits = [json.loads(p.read_text()) for p in sorted(CATALOGUE.glob("code-asserts-*.json"))]
    assert len(exploits) >= 3
    results = score(code_service.url, [{**e["item"], "id": e["name"]} for e in exploits])
    for name, result in results.items():
        assert result["status"] == "ok" and result["reward"] == 0.0, (name, result)
