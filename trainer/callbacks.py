"""What a run writes: ``RUN_DIR/metrics.jsonl``, one line per logged step (TRL's metrics and ours), which
``plot`` reads; and on the console one compact line per step instead of TRL's whole metrics dict."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_callback import ProgressCallback

from trainer.metrics import METRICS_FILE, read_metrics

__all__ = ["METRICS_FILE", "CompactProgressCallback", "MetricsFileCallback", "read_metrics", "use_compact_progress"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN (a step with no scored completion) is written as null
    return value


class MetricsFileCallback(TrainerCallback):
    """Appends every training log (``logging_steps``) to ``RUN_DIR/metrics.jsonl``."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / METRICS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not logs or not state.is_world_process_zero:
            return
        record = {"step": state.global_step, **{k: _jsonable(v) for k, v in logs.items()}}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


class CompactProgressCallback(ProgressCallback):
    """TRL's progress bar, with one short line per logged step (``step 12/200  reward 0.62 (tag_count 0.62,
    format 0.25)  len 6.1  reflect 0.00  wait 8 ms``) where it prints the whole metrics dict; everything is
    in ``metrics.jsonl`` anyway."""

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if state.is_world_process_zero and self.training_bar is not None and logs:
            self.training_bar.write(compact_line(state.global_step, state.max_steps, logs))


def compact_line(step: int, max_steps: int, logs: dict[str, Any]) -> str:
    """The console line of one logged step (see :class:`CompactProgressCallback`)."""
    def num(key: str, fmt: str = ".2f") -> str | None:
        value = logs.get(key)
        return format(value, fmt) if isinstance(value, int | float) and math.isfinite(value) else None

    parts = [f"step {step}/{max_steps}"]
    if "reward" in logs:
        comps = ", ".join(f"{k.removeprefix('service/')} {num(k)}" for k in sorted(logs)
                          if k.startswith("service/") and k not in ("service/unscored_frac", "service/wait_s")
                          and num(k) is not None)
        parts.append(f"reward {num('reward') or 'n/a'}" + (f" ({comps})" if comps else ""))
    for key, label, fmt in (("loss", "loss", ".4f"), ("completions/mean_length", "len", ".1f"),
                            ("reflection_rate", "reflect", ".2f"), ("service/unscored_frac", "unscored", ".2f")):
        if num(key, fmt) is not None and (key != "service/unscored_frac" or logs[key] > 0):
            parts.append(f"{label} {num(key, fmt)}")
    if num("service/wait_s") is not None:
        parts.append(f"wait {logs['service/wait_s'] * 1000:.0f} ms")
    if "train_runtime" in logs:
        parts.append(f"done in {logs['train_runtime']:.1f} s")
    return "  ".join(parts)


def use_compact_progress(trainer: Any) -> None:
    """Swap TRL's progress callback for :class:`CompactProgressCallback` (when it shows a bar at all)."""
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(CompactProgressCallback)
