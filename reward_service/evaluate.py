"""The eval CLI's work: grade a JSONL file locally or against a URL, write results, print a summary.

Each input line is a score item (``completion``, ``answer``, ``task``…); other fields ride along into the
output, where each line is the input row plus ``result`` (an ``ItemResult``: ``reward``, ``components``,
``status``, ``error``, ``details``). Samples sharing a ``prompt_id`` (else the same ``prompt``) form a
group for pass@k. A line that is not valid JSON or not a valid item is answered ``invalid`` with the reason,
counted apart in the summary, and never stops the run. What only the user can fix (no such file, an empty
file, a bad URL or recipe, a service that is down or refuses the key) is one line on stderr and exit 2.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
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
    """Summary rows over the graded items: all of them, per task and per source; n, scored, accuracy, and
    pass@k where groups allow."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[("all", "")].append(row)
        groups[("task", str(row.get("task") or "math"))].append(row)
        if row.get("source"):
            groups[("source", str(row["source"]))].append(row)
    return [_summary_line(kind, name, members) for (kind, name), members in
            sorted(groups.items(), key=lambda g: (g[0][0] != "all", g[0]))]


def _summary_line(kind: str, name: str, members: list[dict[str, Any]]) -> dict[str, Any]:
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
    return line


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


class EvalError(Exception):
    """Something only the user can fix; printed as one line."""


def run_eval(input_path: str, *, output: str | None, url: str | None, recipe: str, api_key: str | None,
             batch_size: int, settings: Settings) -> int:
    """Grade, write, summarise; 0 on success, 2 (with one line on stderr) on an error of the user's."""
    try:
        return _run_eval(input_path, output=output, url=url, recipe=recipe,
                         api_key=api_key or os.environ.get("REWARD_API_KEY") or None,
                         batch_size=batch_size, settings=settings)
    except EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run_eval(input_path: str, *, output: str | None, url: str | None, recipe: str, api_key: str | None,
              batch_size: int, settings: Settings) -> int:
    path = Path(input_path)
    lines = _read_lines(path)
    _check_recipe(recipe)
    if url:
        _check_service(url, api_key)
    parsed = [parse_line(line) for line in lines]
    items = [item for _, item, _ in parsed if item is not None]
    graded = iter(asyncio.run(_grade(items, recipe, url, api_key, batch_size, settings)) if items else [])
    out_rows, valid_rows = [], []
    for row, item, error in parsed:
        result = next(graded) if item is not None else ItemResult(reward=None, status=Status.invalid, error=error)
        out_rows.append({**row, "result": result.model_dump(mode="json")})
        if item is not None:
            valid_rows.append({**out_rows[-1], "task": item.task})
    out_path = Path(output) if output else path.with_suffix(".graded.jsonl")
    with out_path.open("w") as f:
        for row in out_rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    if valid_rows:
        print(format_table(summarize(valid_rows)))
    invalid = len(out_rows) - len(valid_rows)
    print(f"wrote {len(out_rows)} results to {out_path}" + (f"; {invalid} invalid lines (see their 'result.error')"
                                                             if invalid else ""))
    return 0


def _read_lines(path: Path) -> list[str]:
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        raise EvalError(f"{path}: no such file (give a JSONL file, one item per line)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"{path}: cannot read it as UTF-8 text ({exc})") from None
    if not lines:
        raise EvalError(f"{path} is empty: nothing to grade (one JSON item per line)")
    return lines


def _check_recipe(recipe: str) -> None:
    from reward_service import recipes
    from reward_service.errors import UnknownRecipe
    try:
        recipes.resolve(recipe, "accuracy")
    except UnknownRecipe as exc:
        raise EvalError(f"--recipe: {exc}") from None


def _check_service(url: str, api_key: str | None) -> None:
    """The URL has a scheme, the service answers, and it takes the key (before grading anything)."""
    from reward_service.client import RewardClient, RewardServiceError
    if not url.startswith(("http://", "https://")):
        raise EvalError(f"--url {url!r} has no scheme: write http://{url}")
    try:
        with RewardClient(url, api_key=api_key, timeout=10, retries=1, backoff=0.2) as client:
            client.health()
            client.score([{"completion": "\\boxed{1}", "answer": "1"}], "accuracy")
    except RewardServiceError as exc:
        if exc.status_code in (401, 403):
            raise EvalError(f"reward service at {url} refused the key: pass --api-key or set REWARD_API_KEY") from None
        raise EvalError(f"reward service at {url} is not reachable ({exc}); start it with "
                        f"`python -m reward_service serve` or fix --url") from None
