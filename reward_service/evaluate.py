"""The eval CLI's work: grade a JSONL file locally or against a URL, write results, print a summary.

Each input line is a score item (``completion``, ``answer``, ``task``…); other fields ride along into the
output. Samples sharing a ``prompt_id`` (else the same ``prompt``) form a group for pass@k. A line that
is not valid JSON or not a valid item is answered ``invalid`` with the reason and never stops the run.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tqdm import tqdm

from reward_service.schemas import ItemResult, ScoreItem, Status
from reward_service.settings import Settings

_ITEM_FIELDS = set(ScoreItem.model_fields)


def parse_line(line: str) -> tuple[dict[str, Any], ScoreItem | None, str | None]:
    """(row, item or None, error)."""
    try:
        row = json.loads(line)
        if not isinstance(row, dict):
            raise ValueError("a line must be a JSON object")
    except ValueError as exc:
        return {"raw": line[:200]}, None, f"bad JSON: {exc}"
    try:
        return row, ScoreItem.model_validate({k: v for k, v in row.items() if k in _ITEM_FIELDS}), None
    except ValidationError as exc:
        first = exc.errors()[0]
        return row, None, f"{'.'.join(map(str, first['loc']))}: {first['msg']}"


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al., 2021) from n samples with c correct."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod((n - c - i) / (n - i) for i in range(k))


def correct(result: dict[str, Any]) -> bool:
    score = result["components"].get("accuracy", result["reward"])
    return result["status"] == Status.ok and score is not None and score >= 1.0


def summarize(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Summary rows: per task and per source, n, scored, accuracy, and pass@k where groups allow."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[("task", str(row.get("task", "math")))].append(row)
        if row.get("source"):
            groups[("source", str(row["source"]))].append(row)
    table = []
    for (kind, name), members in sorted(groups.items()):
        scored = [m for m in members if m["result"]["status"] == Status.ok]
        line: dict[str, Any] = {"by": kind, "name": name, "n": len(members), "scored": len(scored),
                                "accuracy": sum(correct(m["result"]) for m in scored) / len(scored) if scored else None}
        by_prompt: dict[str, list[bool]] = defaultdict(list)
        for m in scored:
            by_prompt[str(m.get("prompt_id", m.get("prompt")))].append(correct(m["result"]))
        n_min = min((len(v) for v in by_prompt.values()), default=0)
        k = 1
        while 1 < n_min and k <= n_min:
            line[f"pass@{k}"] = sum(pass_at_k(len(v), sum(v), k) for v in by_prompt.values()) / len(by_prompt)
            k *= 2
        table.append(line)
    return table


def _cell(v: Any) -> str:
    return "" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def format_table(table: list[dict[str, Any]]) -> str:
    columns = ["by", "name", "n", "scored", "accuracy"] + sorted(
        {c for r in table for c in r if c.startswith("pass@")}, key=lambda c: int(c[5:]))
    widths = [max(len(c), *(len(_cell(r.get(c))) for r in table)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(_cell(r.get(c)).ljust(w) for c, w in zip(columns, widths, strict=True)) for r in table]
    return "\n".join(lines)


async def _grade(items: list[ScoreItem], recipe: str, url: str | None, api_key: str | None,
                 batch_size: int, settings: Settings) -> list[ItemResult]:
    from reward_service import recipes
    results: list[ItemResult] = []
    bar = tqdm(total=len(items), unit="item", desc="grading")
    if url:
        from reward_service.client import AsyncRewardClient
        async with AsyncRewardClient(url, api_key=api_key, max_batch=batch_size) as client:
            for start in range(0, len(items), batch_size):
                results += await client.score(items[start:start + batch_size], recipe)
                bar.update(min(batch_size, len(items) - start))
    else:
        from reward_service.engine import GradingEngine
        engine = GradingEngine(settings)
        await engine.start()
        try:
            resolved = recipes.resolve(recipe, settings.default_recipe)
            for start in range(0, len(items), batch_size):
                results += await engine.score(items[start:start + batch_size], resolved)
                bar.update(min(batch_size, len(items) - start))
        finally:
            await engine.aclose()
    bar.close()
    return results


def run_eval(input_path: str, *, output: str | None, url: str | None, recipe: str, api_key: str | None,
             batch_size: int, settings: Settings) -> int:
    path = Path(input_path)
    parsed = [parse_line(line) for line in path.read_text().splitlines() if line.strip()]
    items = [item for _, item, _ in parsed if item is not None]
    graded = iter(asyncio.run(_grade(items, recipe, url, api_key, batch_size, settings)))
    out_rows = []
    for row, item, error in parsed:
        result = next(graded) if item is not None else ItemResult(reward=None, status=Status.invalid, error=error)
        out_rows.append({**row, "result": result.model_dump(mode="json")})
    out_path = Path(output) if output else path.with_suffix(".graded.jsonl")
    with out_path.open("w") as f:
        for row in out_rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(format_table(summarize(out_rows)))
    print(f"wrote {len(out_rows)} results to {out_path}")
    return 0
