"""Reading a run's ``metrics.jsonl`` (written by :mod:`trainer.callbacks`); no torch or transformers here,
so ``plot`` works wherever matplotlib does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.jsonl"


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The per-step records of a run (training logs only: lines with a ``reward`` or ``loss``)."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        raise ValueError(f"{run_dir} has no {METRICS_FILE}: give the output_dir of a grpo or sft run")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if "reward" in r or "loss" in r]
