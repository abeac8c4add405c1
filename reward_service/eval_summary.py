"""The eval summary: buckets of graded rows (overall, by task, by source, by any ``--by`` field), each with the
numbers of :mod:`reward_service.eval_metrics`, as a table and as JSON.

maj@k votes over *answer classes*: within a prompt, answers the grader finds equal (``\\frac12``, ``0.5``,
``1/2``) are one class, found with the grader's own comparison (a score item per comparison: the class's first
answer as the reference, the other boxed as the completion), so that the verdict and the vote never disagree
and the service's caches serve repeats. Classes form in rounds over all prompts at once: a prompt's first
unclassed answer opens a class and is compared with every answer still unclassed, which joins it when equal.
Code votes with its verdict (``accepted``, ``wrong_answer``…: the class of a program is what it does on the
tests); every other task with whether it is correct (its only verdict).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from reward_service.eval_instructions import format_instructions, instruction_summary
from reward_service.eval_metrics import Sample, summary
from reward_service.schemas import ItemResult, ScoreItem, Status

Score = Callable[[list[ScoreItem]], Awaitable[list[ItemResult]]]
UNREAD = frozenset({"no_final_answer", "no_answer", "unparseable_answer", "no_code"})  # no answer to read
MAX_ANSWER_CHARS = 200  # the grader shows this much of an extracted answer: a longer one is compared as text


def correct(result: dict[str, Any]) -> bool:
    score = result["components"].get("accuracy", result["reward"])
    return result["status"] == Status.ok and score is not None and score >= 1.0


def _accuracy(result: dict[str, Any]) -> dict[str, Any]:
    details = result.get("details") or {}
    accuracy = details.get("accuracy")
    return accuracy if isinstance(accuracy, dict) else {}


def _unread(result: dict[str, Any]) -> bool:
    return result["status"] == Status.ok and _accuracy(result).get("code") in UNREAD


def _extracted(result: dict[str, Any]) -> str | None:
    text = _accuracy(result).get("extracted")
    return text if result["status"] == Status.ok and isinstance(text, str) and text.strip() else None


def _comparable(text: str) -> bool:
    """Whether an extracted answer can be boxed whole: braces balanced, and not cut where the grader shows
    it (a longer one is only ever equal to the same text)."""
    depth = 0
    for char in text:
        depth += (char == "{") - (char == "}")
        if depth < 0:
            return False
    return depth == 0 and len(text) < MAX_ANSWER_CHARS


class _Prompt:
    """One prompt's math answers on their way into classes: those not classed yet (first appearance first),
    the rows that gave each, and the number the next class gets."""

    def __init__(self) -> None:
        self.unclassed: list[str] = []
        self.rows: dict[str, list[int]] = defaultdict(list)
        self.next_class = 0

    def add(self, text: str, row: int) -> None:
        if text not in self.rows:
            self.unclassed.append(text)
        self.rows[text].append(row)


def _plain_vote(row: dict[str, Any]) -> tuple[Hashable | None, str | None]:
    """(a row's vote when it needs no comparison, else None and the math answer it votes with)."""
    result, task = row["result"], row.get("task", "math")
    if result.get("status") != Status.ok:
        return None, None
    if task == "code":
        return _accuracy(result).get("verdict") or _accuracy(result).get("code"), None
    if task != "math":
        return correct(result), None
    text = None if _unread(result) else _extracted(result)  # an answer the grader could not read: no vote
    return None, text.strip() if text is not None else None


async def answer_classes(rows: Sequence[dict[str, Any]], groups: Sequence[Sequence[int]],
                         score: Score) -> list[Hashable | None]:
    """Each row's vote (see the module's docstring); None: it has no answer to vote with."""
    votes: list[Hashable | None] = [None] * len(rows)
    prompts = []
    for members in groups:
        prompt = _Prompt()
        for i in members:
            votes[i], text = _plain_vote(rows[i])
            if text is not None:
                prompt.add(text, i)
        prompts.append(prompt)
    while opened := [p for p in prompts if p.unclassed]:
        asked: list[tuple[_Prompt, str, str]] = []  # (prompt, its class's first answer, another answer)
        for prompt in opened:
            first = prompt.unclassed.pop(0)
            for i in prompt.rows[first]:
                votes[i] = prompt.next_class
            asked += [(prompt, first, other) for other in prompt.unclassed if _comparable(first) and _comparable(other)]
        items = [ScoreItem(completion=f"\\boxed{{{other}}}", answer=first, task="math") for _, first, other in asked]
        results = await score(items) if items else []
        for (prompt, _, other), result in zip(asked, results, strict=True):
            if result.status == Status.ok and (result.components.get("accuracy") or 0.0) >= 1.0:
                prompt.unclassed.remove(other)
                for i in prompt.rows[other]:
                    votes[i] = prompt.next_class
        for prompt in opened:
            prompt.next_class += 1
    return votes


def buckets(rows: Sequence[dict[str, Any]], by: Sequence[str]) -> dict[str, dict[str, list[int]]]:
    """{bucket kind: {value: row indices}}: ``overall``, ``by_task``, ``by_source`` (when any row has one)
    and ``by_<field>`` for each of ``by`` (a row without the field counts under ``null``)."""
    out: dict[str, dict[str, list[int]]] = {"overall": {"": list(range(len(rows)))}}
    fields = [("task", "task"), *([("source", "source")] if any(r.get("source") for r in rows) else []),
              *((f, f) for f in by)]
    for name, field in fields:
        kind = out.setdefault(f"by_{name}", {})
        for i, row in enumerate(rows):
            value = row.get(field)
            key = "null" if value is None else value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            kind.setdefault(key, []).append(i)
    return out


def _samples(rows: Sequence[dict[str, Any]], votes: Sequence[Hashable | None], members: Sequence[int]) -> list[Sample]:
    out = []
    for i in members:
        result = rows[i]["result"]
        scored = result["status"] == Status.ok and result["reward"] is not None
        out.append(Sample(result["reward"] if scored else None, correct(result), _unread(result), votes[i]))
    return out


def summarize(rows: Sequence[dict[str, Any]], votes: Sequence[Hashable | None], groups: Sequence[Sequence[int]],
              by: Sequence[str] = ()) -> dict[str, Any]:
    """The summary as JSON: each bucket's numbers over the prompts (``groups``) it holds."""
    group_of = {i: g for g, members in enumerate(groups) for i in members}
    out: dict[str, Any] = {}
    for kind, values in buckets(rows, by).items():
        table = {}
        for value, members in values.items():
            inside: dict[int, list[int]] = defaultdict(list)  # prompt -> its rows in this bucket, file order
            for i in members:
                inside[group_of[i]].append(i)
            table[value] = summary([_samples(rows, votes, m) for m in inside.values()])
        out[kind] = table[""] if kind == "overall" else table
    instructions = instruction_summary(rows)
    if instructions:
        out["ifeval"] = instructions
    return out


def _cell(value: Any) -> str:
    return "" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def format_table(summary_json: dict[str, Any]) -> str:
    """The summary as the printed table: one row a bucket, mean ± its standard error over prompts."""
    lines = [("all", "", summary_json["overall"])]
    lines += [(kind.removeprefix("by_"), value, numbers) for kind, table in summary_json.items()
              if kind.startswith("by_") for value, numbers in sorted(table.items())]
    ks = sorted({c for _, _, n in lines for c in n if c.startswith(("pass@", "maj@"))},
                key=lambda c: (c.startswith("maj"), int(c.split("@")[1])))
    columns = ["by", "name", "samples", "scored", "prompts", "accuracy", "mean±se", "no_answer", *ks]
    cells = [[by, name or "-", *(_cell(n.get(c)) for c in ("samples", "scored", "prompts", "accuracy")),
              _cell(n.get("mean")) + (f"±{n['stderr']:.3f}" if n.get("stderr") is not None else ""),
              *(_cell(n.get(c)) for c in ("no_answer", *ks))] for by, name, n in lines]
    widths = [max(len(c), *(len(row[k]) for row in cells)) for k, c in enumerate(columns)]
    table = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                      for row in [columns, *cells])
    return table + ("\n\n" + format_instructions(summary_json["ifeval"]) if "ifeval" in summary_json else "")
