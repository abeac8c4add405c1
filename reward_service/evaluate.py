"""The eval CLI's work: grade a JSONL file locally or against a URL, write results, print a summary.

Each input line is a score item (``completion``, ``answer``, ``task``…) or a data set's own row with a
``completion`` (:mod:`reward_service.eval_rows`: LiveCodeBench, GSM8K, MATH/AIME); other fields ride along into
the output, where each line is the input row plus ``result`` (an ``ItemResult``: ``reward``, ``components``,
``status``, ``error``, ``details``) and ``answer_class`` (its vote for maj@k). Samples sharing a ``prompt_id``
(or the field ``--group-by`` names; else the same prompt text: ``prompt``, ``problem``, ``question``) form a
group for pass@k and maj@k; a sample with none is a group of its own, and a summary without them says why.
The summary (:mod:`reward_service.eval_summary`) is printed and, with ``--summary-json``, written as JSON. A line that is not valid JSON or not a valid item (as ``/score`` judges it: a field
name that is a typo of ours too) is answered ``invalid`` with the reason, counted apart in the summary, and
never stops the run. What only the user can fix (no such file, an empty file, a bad URL or recipe, a
``--group-by`` field no line has, a service that is down or refuses the key) is one line on stderr and exit 2.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tqdm import tqdm

from reward_service import eval_rows
from reward_service.eval_summary import answer_classes, format_table, summarize
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
    try:
        item_row = eval_rows.normalize(row)  # a data set's own form (LiveCodeBench, GSM8K...) read as an item
    except eval_rows.RowError as exc:
        return row, None, str(exc)
    try:  # the whole row, as /score sees an item: its other fields are ignored, a typo of ours is not
        item = ScoreItem.model_validate(item_row)
    except ValidationError as exc:
        first = exc.errors()[0]
        where, said = ".".join(map(str, first["loc"])), first["msg"].removeprefix("Value error, ")
        return row, None, f"{where}: {said}" if where else said
    grouped = {"prompt_id": item_row["prompt_id"]} if "prompt_id" in item_row and "prompt_id" not in row else {}
    return {**row, **grouped}, item, None


GROUP_BY = "prompt_id"
PROMPT_FIELDS = ("prompt", "problem", "question")  # the prompt's text: in score items, MATH/AIME rows, GSM8K's


def group_key(row: dict[str, Any], group_by: str = GROUP_BY) -> str | None:
    """The group a sample counts in for pass@k: its ``group_by`` field, else its prompt's text; None: alone."""
    for field in (group_by, *PROMPT_FIELDS):
        value = row.get(field)
        if value is not None and value != "":
            return f"{field}={json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)}"
    return None


def group(rows: Iterable[dict[str, Any]], group_by: str = GROUP_BY) -> list[list[int]]:
    """The rows' indices in their groups, file order (a row with no key is one of its own)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[group_key(row, group_by) or f"#{i}"].append(i)
    return list(groups.values())


def pass_note(rows: list[dict[str, Any]], group_by: str = GROUP_BY) -> str | None:
    """Why the overall summary has no pass@k, or None when it has (or nothing was scored)."""
    sizes = [len(g) for g in group((r for r in rows if r["result"]["status"] == Status.ok), group_by)]
    if not sizes:
        return None
    if min(sizes) > 1:
        return None if min(sizes) == max(sizes) else (
            f"groups have {min(sizes)} to {max(sizes)} scored samples: pass@k and maj@k for k up to "
            f"{min(sizes)} only (k may not pass any group's size)")
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


class EvalError(Exception):
    """Something only the user can fix; printed as one line."""


class _Grading:
    """Where the run's items are graded, open for all of it (the samples, then maj@k's comparisons): the
    service at ``url``, or an engine in this process."""

    def __init__(self, url: str | None, api_key: str | None, batch_size: int, settings: Settings) -> None:
        self.url, self.api_key, self.batch_size, self.settings = url, api_key, batch_size, settings
        self.client: Any = None
        self.engine: Any = None

    async def __aenter__(self) -> _Grading:
        if self.url:
            from reward_service.client import AsyncRewardClient
            self.client = await AsyncRewardClient(self.url, api_key=self.api_key,
                                                  max_batch=self.batch_size).__aenter__()
        else:
            from reward_service.engine import GradingEngine
            self.engine = GradingEngine(self.settings)
            await self.engine.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await self.client.__aexit__(None, None, None)
        if self.engine is not None:
            await self.engine.aclose()

    async def score(self, items: list[ScoreItem], recipe: str, desc: str) -> list[ItemResult]:
        from reward_service import recipes
        results: list[ItemResult] = []
        resolved = None if self.client is not None else recipes.resolve(recipe, self.settings.default_recipe)
        with tqdm(total=len(items), unit="item", desc=desc) as bar:
            for start in range(0, len(items), self.batch_size):
                batch = items[start:start + self.batch_size]
                results += (await self.client.score(batch, recipe) if self.client is not None
                            else await self.engine.score(batch, resolved))
                bar.update(len(batch))
        return results


async def _grade_and_classify(items: list[ScoreItem], parsed: list[tuple[dict[str, Any], ScoreItem | None,
                              str | None]], grading: _Grading, recipe: str,
                              group_by: str) -> tuple[list[ItemResult], list[dict[str, Any]], list[Any]]:
    """(each item's result, the valid rows with their results, each valid row's maj@k vote)."""
    async with grading:
        results = await grading.score(items, recipe, "grading") if items else []
        graded = iter(results)
        valid = [{**row, "result": next(graded).model_dump(mode="json"), "task": item.task}
                 for row, item, _ in parsed if item is not None]
        votes = await answer_classes(valid, group(valid, group_by),
                                     lambda batch: grading.score(batch, "accuracy", "answer classes"))
    return results, valid, votes


def evaluate(rows: list[dict[str, Any]], *, recipe: str = "accuracy", url: str | None = None,
             api_key: str | None = None, group_by: str = GROUP_BY, by: tuple[str, ...] = (),
             batch_size: int = 256, settings: Settings | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The eval CLI's numbers from Python: (each row with its ``result`` and ``answer_class``, the summary as
    ``--summary-json`` writes it, without its settings). Rows are what the CLI reads, one a line; graded in
    this process, or by the service at ``url``. A row that is no item is answered ``invalid`` and left out
    of the summary, as in the CLI."""
    parsed = [parse_line(json.dumps(row)) for row in rows]
    items = [item for _, item, _ in parsed if item is not None]
    grading = _Grading(url, api_key, batch_size, settings or Settings())
    results, valid, votes = asyncio.run(_grade_and_classify(items, parsed, grading, recipe, group_by))
    graded, vote = iter(results), iter(votes)
    out = [{**row, "result": (next(graded) if item is not None else ItemResult(
        reward=None, status=Status.invalid, error=error)).model_dump(mode="json"),
            "answer_class": next(vote) if item is not None else None} for row, item, error in parsed]
    return out, summarize(valid, votes, group(valid, group_by), by) if valid else {}


def run_eval(input_path: str, *, output: str | None, url: str | None, recipe: str, api_key: str | None,
             batch_size: int, settings: Settings, group_by: str | None = None, by: tuple[str, ...] = (),
             summary_json: str | None = None) -> int:
    """Grade, write, summarise; 0 on success, 2 (with one line on stderr) on an error of the user's."""
    try:
        return _run_eval(input_path, output=output, url=url, recipe=recipe,
                         api_key=api_key or os.environ.get("REWARD_API_KEY") or None,
                         batch_size=batch_size, settings=settings, group_by=group_by, by=by,
                         summary_json=summary_json)
    except EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run_eval(input_path: str, *, output: str | None, url: str | None, recipe: str, api_key: str | None,
              batch_size: int, settings: Settings, group_by: str | None, by: tuple[str, ...],
              summary_json: str | None) -> int:
    path = Path(input_path)
    lines = _read_lines(path)
    _check_recipe(recipe)
    parsed = [parse_line(line) for line in lines]
    if group_by is not None and not any(group_by in row for row, _, _ in parsed):
        raise EvalError(f"--group-by {group_by}: no line of {path} has that field")
    if url:
        _check_service(url, api_key)
    items = [item for _, item, _ in parsed if item is not None]
    grading = _Grading(url, api_key, batch_size, settings)
    results, valid_rows, votes = asyncio.run(_grade_and_classify(items, parsed, grading, recipe,
                                                                  group_by or GROUP_BY))
    graded, vote = iter(results), iter(votes)
    out_rows = []
    for row, item, error in parsed:
        result = next(graded) if item is not None else ItemResult(reward=None, status=Status.invalid, error=error)
        out_rows.append({**row, "result": result.model_dump(mode="json"),
                         **({"answer_class": next(vote)} if item is not None else {})})
    out_path = Path(output) if output else path.with_suffix(".graded.jsonl")
    with out_path.open("w") as f:
        for row in out_rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    if valid_rows:
        numbers = summarize(valid_rows, votes, group(valid_rows, group_by or GROUP_BY), by)
        print(format_table(numbers))
        note = pass_note(valid_rows, group_by or GROUP_BY)
        if note:
            print(note)
        if summary_json:
            settings_used = {"recipe": recipe, "group_by": group_by or GROUP_BY, "by": list(by),
                             "maj_classes": "math: answers the grader finds equal; code: the verdict; other: "
                                            "correct or not", "notes": [note] if note else []}
            Path(summary_json).write_text(json.dumps({**numbers, "settings": settings_used}, indent=1) + "\n")
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
