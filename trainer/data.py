"""Loading prompts: local JSONL/JSON/Parquet files, Hugging Face ``datasets`` names, or the project's own
generated sets (``builtin:countdown``, ``builtin:arithmetic``, ``builtin:leetcode``), into one shape.

:func:`prepare` turns any source into rows of ``prompt`` (the rendered prompt text, see
:mod:`trainer.templates`), ``question`` (the original question), ``task`` and the reference columns the
service grades against, named as in :class:`reward_service.schemas.ScoreItem`: ``answer``, ``tests`` (as a
JSON string: Arrow cannot hold arbitrary test values), ``language``, ``target_language``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from trainer.config import DataConfig

REFERENCE_FIELDS = ("answer", "tests", "language", "target_language")
LOCAL_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}
BUILTIN = "builtin:"


def load_rows(cfg: DataConfig) -> Any:
    """The raw ``datasets.Dataset``: a local file by extension, else a hub dataset name."""
    import datasets

    path = Path(cfg.source)
    if not cfg.source:
        raise ValueError("data.source is empty: give a .jsonl/.parquet file or a Hugging Face dataset name")
    if cfg.source.startswith(BUILTIN):
        ds = _from_rows(builtin_rows(cfg), cfg)
    elif path.suffix in LOCAL_FORMATS:
        if not path.exists():
            raise FileNotFoundError(f"data file not found: {path}")
        if LOCAL_FORMATS[path.suffix] == "json":
            ds = _from_rows(read_jsonl(path), cfg)
        else:
            ds = datasets.load_dataset("parquet", data_files=str(path), split="train")
    else:
        ds = datasets.load_dataset(cfg.source, cfg.subset, split=cfg.split)
    if cfg.shuffle_seed is not None:
        ds = ds.shuffle(seed=cfg.shuffle_seed)
    if cfg.limit is not None:
        ds = ds.select(range(min(cfg.limit, len(ds))))
    return ds


def builtin_rows(cfg: DataConfig) -> list[dict[str, Any]]:
    """``builtin:NAME``: ``limit`` rows (default 1000) of a generator, seeded by ``shuffle_seed`` (default 0)."""
    from trainer import generators
    name = cfg.source.removeprefix(BUILTIN)
    if name == "leetcode":
        return generators.leetcode()
    if name not in generators.GENERATORS:
        raise ValueError(f"unknown data source {cfg.source!r}; builtin: countdown, arithmetic, leetcode")
    return list(generators.GENERATORS[name](cfg.limit or 1000, seed=cfg.shuffle_seed or 0))


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file (or a JSON list)."""
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _from_rows(rows: list[dict[str, Any]], cfg: DataConfig) -> Any:
    """A Dataset with the union of the rows' keys (``from_list`` would keep only the first row's)."""
    import datasets
    keys = list(dict.fromkeys(k for row in rows for k in row))
    return datasets.Dataset.from_list([_flatten({k: row.get(k) for k in keys}, cfg) for row in rows])


def _flatten(row: dict[str, Any], cfg: DataConfig) -> dict[str, Any]:
    """Nested values other than the prompt as JSON text: test cases mix types that Arrow cannot hold."""
    return {k: json.dumps(v) if isinstance(v, dict | list) and k != cfg.prompt_column else v
            for k, v in row.items()}


def _reference(row: dict[str, Any], cfg: DataConfig) -> dict[str, Any]:
    columns = {"answer": cfg.answer_column, "tests": cfg.tests_column, "language": cfg.language_column,
               "target_language": cfg.target_language_column}
    out: dict[str, Any] = {}
    for name, column in columns.items():
        value = row.get(column)
        if isinstance(value, float) and math.isnan(value):
            value = None  # a missing cell of a numeric column
        if name == "tests" and value is not None and not isinstance(value, str):
            value = json.dumps(value)
        elif name == "answer" and isinstance(value, float) and value.is_integer():
            value = str(int(value))  # an int column with nulls comes back from pandas/Parquet as float
        elif name == "answer" and value is not None and not isinstance(value, str):
            value = json.dumps(value) if isinstance(value, dict | list) else str(value)
        out[name] = value
    return out


def to_record(row: dict[str, Any], cfg: DataConfig, tokenizer: Any = None) -> dict[str, Any]:
    """One prepared row (see the module docstring)."""
    if cfg.prompt_column not in row:
        raise KeyError(f"data has no column {cfg.prompt_column!r} (set data.prompt_column); has {sorted(row)}")
    question = row[cfg.prompt_column]
    task = row.get(cfg.task_column) if cfg.task_column else None
    return {"prompt": cfg.prompt_template().render(question, tokenizer),
            "question": question if isinstance(question, str) else json.dumps(question),
            "task": task or cfg.task, **_reference(row, cfg)}


def prepare(cfg: DataConfig, tokenizer: Any = None) -> Any:
    """The prepared ``datasets.Dataset`` for ``grpo`` and ``sample``."""
    ds = load_rows(cfg)
    return ds.map(lambda row: to_record(row, cfg, tokenizer), remove_columns=ds.column_names,
                  desc="rendering prompts")


def item_fields(task: str, reference: dict[str, Any]) -> dict[str, Any]:
    """ScoreItem fields for one row: the task and the reference columns that are set (``tests`` decoded)."""
    fields: dict[str, Any] = {"task": task}
    for name in REFERENCE_FIELDS:
        value = reference.get(name)
        if value is None or value == "":
            continue
        fields[name] = json.loads(value) if name == "tests" and isinstance(value, str) else value
    return fields


def write_jsonl(path: str | Path, records: Any) -> int:
    """Write records one per line; returns how many."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n
