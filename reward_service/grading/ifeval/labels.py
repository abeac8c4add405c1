"""A reference label, in any form a data set stores it, as the list of instructions to check.

Forms: a Google IFEval / IFBench row (``{"instruction_id_list": [...], "kwargs": [...], ...}``, the dict or
its JSON text); open-instruct's ``[{"instruction_id": [...], "kwargs": [...]}]`` (JSON text); Tulu 3's
``{"func_name": ..., **kwargs}`` (one instruction ``tulu3:<func_name>``, see :mod:`.tulu`). Fail closed:
anything we cannot check exactly as labelled raises :class:`LabelError` with the reason (unknown id, an
unknown, missing or ill-typed kwarg, an empty list, IFEval's conflicting instructions), never a default.
Keys whose value is ``null`` are dropped first: Hugging Face's IFEval rows carry every kwarg name of every
instruction, set to null where unused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reward_service.grading.ifeval.conflicts import first_conflict
from reward_service.grading.ifeval.registry import CHECKERS, Checker

__all__ = ["Instruction", "LabelError", "parse_label"]


class LabelError(ValueError):
    """The label cannot be checked as given (the message says why)."""


@dataclass(frozen=True)
class Instruction:
    id: str
    kwargs: dict[str, Any]   # as applied: validated and normalised


def parse_label(label: str, prompt: str | None = None) -> list[Instruction]:
    try:
        data = json.loads(label)
    except (json.JSONDecodeError, TypeError) as exc:
        raise LabelError(f"ifeval label is not JSON: {exc}") from None
    pairs = _pairs(data)
    if not pairs:
        raise LabelError("ifeval label lists no instruction")
    instructions = [_instruction(i, iid, kwargs, prompt) for i, (iid, kwargs) in enumerate(pairs)]
    clash = first_conflict([ins.id for ins in instructions])
    if clash:
        raise LabelError(f"instructions {clash[0]!r} and {clash[1]!r} conflict (IFEval's conflict table)")
    return instructions


def _pairs(data: Any) -> list[tuple[Any, Any]]:
    if isinstance(data, dict) and "func_name" in data:
        return [_tulu_pair(data)]
    if isinstance(data, dict) and "instruction_id_list" in data:
        return _zipped(data["instruction_id_list"], data.get("kwargs"), "instruction_id_list")
    if isinstance(data, list) and all(isinstance(d, dict) and "instruction_id" in d for d in data):
        return [pair for d in data for pair in _zipped(d["instruction_id"], d.get("kwargs"), "instruction_id")]
    raise LabelError("ifeval label must be {'instruction_id_list': [...], 'kwargs': [...]} or "
                     "[{'instruction_id': [...], 'kwargs': [...]}] or {'func_name': ..., ...kwargs}")


def _tulu_pair(data: dict[str, Any]) -> tuple[Any, Any]:
    """Tulu 3's form: the id is ``tulu3:`` + ``func_name`` (its own functions, not Google's), the other keys
    its kwargs; an unknown or non-text ``func_name`` is an unknown id (open-instruct would crash)."""
    name = data["func_name"]
    return f"tulu3:{name}" if isinstance(name, str) else name, {k: v for k, v in data.items() if k != "func_name"}


def _zipped(ids: Any, kwargs: Any, name: str) -> list[tuple[Any, Any]]:
    if not isinstance(ids, list):
        raise LabelError(f"{name} must be a list of instruction ids, got {type(ids).__name__}")
    if kwargs is None:
        kwargs = [{}] * len(ids)
    if not isinstance(kwargs, list) or len(kwargs) != len(ids):
        raise LabelError(f"kwargs must be a list with one entry per instruction ({len(ids)})")
    return list(zip(ids, kwargs, strict=True))


def _instruction(index: int, iid: Any, kwargs: Any, prompt: str | None) -> Instruction:
    checker = CHECKERS.get(iid) if isinstance(iid, str) else None
    if checker is None:
        raise LabelError(f"instruction {index}: unknown instruction id {iid!r}")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise LabelError(f"instruction {index} ({iid}): kwargs must be an object, got {type(kwargs).__name__}")
    given = {k: v for k, v in (kwargs or {}).items() if v is not None}
    given = {**{k: v for k, v in checker.defaults.items() if k not in given}, **given}
    if checker.needs_prompt and "prompt_to_repeat" not in given and prompt and prompt.strip():
        given["prompt_to_repeat"] = prompt
    unknown = sorted(set(given) - set(checker.args))
    if unknown:
        raise LabelError(f"instruction {index} ({iid}): unknown kwargs {unknown} (takes {sorted(checker.args)})")
    missing = sorted(set(checker.args) - set(given))
    if missing:
        raise LabelError(f"instruction {index} ({iid}): missing kwargs {missing}")
    applied = {name: _value(checker, name, given[name]) for name in checker.args}
    problem = checker.cross(applied)
    if problem:
        raise LabelError(f"instruction {index} ({iid}): {problem}")
    return Instruction(iid, applied)


def _value(checker: Checker, name: str, value: Any) -> Any:
    kind = checker.args[name]
    out = kind.coerce(value)
    if out is None:
        raise LabelError(f"{checker.id}: kwarg {name!r} must be {kind.value}, got {value!r}")
    return out
