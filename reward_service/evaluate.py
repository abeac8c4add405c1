"""The eval CLI's work: grade a JSONL file locally or against a URL, write results, print a summary.

Each input line is a score item (``completion``, ``answer``, ``task``…); other fields ride along into the
output, where each line is the input row plus ``result`` (an ``ItemResult``: ``reward``, ``components``,
``status``, ``error``, ``details``). Samples sharing a ``prompt_id`` (or the field ``--group-by`` names; else
the same ``prompt``) form a group for pass@k; a sample with neither is a group of its own, and a summary
without pass@k says why. A line that is not valid JSON or not a valid item (as ``/score`` judges it: a field
name that is a typo of ours too) is answered ``invalid`` with the reason, counted apart in the summary, and
never stops the run. What only the user can fix (no such file, an empty file, a bad URL or recipe, a
``--group-by`` field no line has, a service that is down or refuses the key) is one line on stderr and exit 2.
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


def parse_line(line: str) -> tuple[dict[str, Any], ScoreItem | None, str | None]:
    """(row, item or None, error)."""
    try:
        row = json.loads(line)
        if not isinstance(row, dict):
            raise ValueError("a line must be a JSON object")
    except ValueError as exc:
        return {"raw": line[:200]}, None, f"bad JSON: {exc}"
    try:  # the whole row, as /score sees an item: its other fields are ignored, a typo of ours is not
        return row, ScoreItem.model_validate(row), None
    except ValidationError as exc:
        first = exc.errors()[0]
        where, said = ".".join(map(str, first["loc"])), first["msg"].removeprefix("Value error, ")
        return row, None, f"{where}: {said}" if where else said


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al., 2021) from n samples with c correct."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod((n - c - i) / (n - i) for i in range(k))


def correct(result: dict[str, Any]) -> bool:
    score = result["components"].get("accuracy", result["reward"])
    return result["status"] == Status.ok and score is not None and score >= 1.0


GROUP_BY = "prompt_id"


def group_key(row: dict[str, Any], group_by: str = GROUP_BY) -> str | None:
    """The group a sample counts in for pass@k: its ``group_by`` field, else its prompt; None: alone."""
    for field in (group_by, "prompt"):
        value = row.get(field)
        if value is not None and value != "":
            return f"{field}={json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)}"
    return None


def group(rows: Iterable[dict[str, Any]], group_by: str = GROUP_BY) -> list[list[dict[str, Any]]]:
    """The rows in their groups (a row with no key is one of its own)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[group_key(row, group_by) or f"#{i}"].append(row)
    return list(groups.values())


def summarize(rows: Iterable[dict[str, Any]], group_by: str = GROUP_BY) -> list[dict[str, Any]]:
    """Summary rows over the graded items: all of them, per task and per source; n, scored, accuracy, and
    pass@k where groups allow (pass@k over samples that share no group would be meaningless)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[("all", "")].append(row)
        groups[("task", str(row.get("task") or "math"))].append(row)
        if row.get("source"):
            groups[("source", str(row["source"]))].append(row)
    return [_summary_line(kind, name, members, group_by) for (kind, name), members in
            sorted(groups.items(), key=lambda g: (g[0][0] != "all", g[0]))]


def _summary_line(kind: str, name: str, members: list[dict[str, Any]], group_by: str) -> dict[str, Any]:
    scored = [m for m in members if m["result"]["status"] == Status.ok]
    line: dict[str, Any] = {"by": kind, "name": name, "n": len(members), "scored": len(scored),
                            "accuracy": sum(correct(m["result"]) for m in scored) / len(scored) if scored else None}
    outcomes = [[correct(m["result"]) for m in g] for g in group(scored, group_by)]
    n_min = min(map(len, outcomes), default=0)
    k = 1
    while 1 < n_min and k <= n_min:
        line[f"pass@{k}"] = sum(pass_at_k(len(v), sum(v), k) for v in outcomes) / len(outcomes)
        k *= 2
    return line


def pass_note(rows: list[dict[str, Any]], group_by: str = GROUP_BY) -> str | None:
    """Why the overall summary has no pass@k, or None when it has (or nothing was scored)."""
    sizes = [len(g) for g in group((r for r in rows if r["result"]["status"] == Status.ok), group_by)]
    if not sizes or min(sizes) > 1:
        return None
    if max(sizes) > 1:
        return (f"no pass@k: {sizes.count(1)} of {len(sizes)} groups have a single scored sample, and pass@k "
                "needs k samples in every group")
    hint = ", ".join(f"--group-by {f}" for f in _id_like_fields(rows, group_by))
    return (f"no pass@k: no two samples share a '{group_by}' or a prompt, so each is a group of its own; name "
            f"the field that groups a prompt's samples with --group-by FIELD{f' (here: {hint})' if hint else ''}")


def _id_like_fields(rows: list[dict[str, Any]], group_by: str) -> list[str]:
    """Fields every row has, named like a problem's id or text, whose values repeat: likely groups."""
    common = set.intersection(*(set(r) for r in rows)) - {group_by}
    likely = (f for f in common if f.endswith("id") or f in ("problem", "question"))
    return sorted(f for f in likely if len({json.dumps(r[f], sort_keys=True, default=str) for r in rows}) < len(rows))


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
             batch_size: int, settings: Settings, group_by: str | None = None) -> int:
    """Grade, write, summarise; 0 on success, 2 (with one line on stderr) on an error of the user's."""
    try:
        return _run_eval(input_path, output=output, url=url, recipe=recipe,
                         api_key=api_key or os.environ.get("REWARD_API_KEY") or None,
                         batch_size=batch_size, settings=settings, group_by=group_by)
    except EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run_eval(input_path: str, *, output: str | None, url: str | None, recipe: str, api_key: str | None,
              batch_size: int, settings: Settings, group_by: str | None) -> int:
    path = Path(input_path)
    lines = _read_lines(path)
    _check_recipe(recipe)
    parsed = [parse_line(line) for line in lines]
    if group_by is not None and not any(group_by in row for row, _, _ in parsed):
        raise EvalError(f"--group-by {group_by}: no line of {path} has that field")
    if url:
        _check_service(url, api_key)
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
        print(format_table(summarize(valid_rows, group_by or GROUP_BY)))
        note = pass_note(valid_rows, group_by or GROUP_BY)
        if note:
            print(note)
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
