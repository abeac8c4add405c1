"""The eval summary's instruction-following part: IFEval's four accuracies and each instruction id's rates.

Read from the graded rows' ``details.accuracy.instructions`` (every ``ifeval`` item lists each instruction with
its strict and loose verdict, whatever the recipe's ``loose`` option), so one run gives all four numbers
lm-eval's IFEval task reports, under its names: ``prompt_level_strict_acc`` (every instruction of a row
followed), ``inst_level_strict_acc`` (instructions followed over all instructions), and the loose pair.
A row that is not ``ok`` (an invalid label, say) counts in no rate: its count is ``not_graded``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from reward_service.schemas import Status

__all__ = ["format_instructions", "instruction_summary"]


def _instructions(row: dict[str, Any]) -> list[dict[str, Any]] | None:
    result = row["result"]
    accuracy = (result.get("details") or {}).get("accuracy")
    listed = accuracy.get("instructions") if isinstance(accuracy, dict) else None
    return listed if result["status"] == Status.ok and isinstance(listed, list) and listed else None


def instruction_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """IFEval's accuracies over the ``ifeval`` rows, and ``by_instruction``; None when there are none."""
    ifeval = [row for row in rows if row.get("task") == "ifeval"]
    if not ifeval:
        return None
    graded = [listed for row in ifeval if (listed := _instructions(row)) is not None]
    every = [i for listed in graded for i in listed]
    per_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i in every:
        per_id[i["id"]].append(i)

    def rate(items: Sequence[Any]) -> float | None:
        return sum(map(bool, items)) / len(items) if items else None

    return {
        "rows": len(ifeval), "not_graded": len(ifeval) - len(graded), "instructions": len(every),
        "prompt_level_strict_acc": rate([all(i["strict"] for i in listed) for listed in graded]),
        "inst_level_strict_acc": rate([i["strict"] for i in every]),
        "prompt_level_loose_acc": rate([all(i["loose"] for i in listed) for listed in graded]),
        "inst_level_loose_acc": rate([i["loose"] for i in every]),
        "by_instruction": {iid: {"instructions": len(found), "strict": rate([i["strict"] for i in found]),
                                 "loose": rate([i["loose"] for i in found])}
                           for iid, found in sorted(per_id.items())},
    }


def format_instructions(numbers: dict[str, Any]) -> str:
    """The printed form: the four accuracies, then one line per instruction id."""
    head = "  ".join(f"{name} {numbers[name]:.3f}" for name in (
        "prompt_level_strict_acc", "inst_level_strict_acc", "prompt_level_loose_acc", "inst_level_loose_acc")
        if numbers[name] is not None)
    lines = [f"ifeval: {numbers['rows']} rows ({numbers['not_graded']} not graded), {head}"]
    width = max((len(iid) for iid in numbers["by_instruction"]), default=11)
    lines.append(f"{'instruction':{width}}  count  strict  loose")
    lines += [f"{iid:{width}}  {n['instructions']:5d}  {n['strict']:.3f}   {n['loose']:.3f}"
              for iid, n in numbers["by_instruction"].items()]
    return "\n".join(lines)
