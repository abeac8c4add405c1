"""``sft``: cold-start or distillation fine-tuning with TRL's ``SFTTrainer`` on a JSONL file.

Rows are ``{"prompt", "completion"}`` (what ``sample`` writes; the loss is on the completion only) or
``{"messages": [...]}`` (conversations, rendered with the model's chat template). ``model: tiny`` builds a
tiny random model whose vocabulary covers the file (tests, demos).
"""

from __future__ import annotations

import json
from typing import Any

from trainer.callbacks import MetricsFileCallback, use_compact_progress
from trainer.config import RunConfig, training_fields
from trainer.data import read_jsonl
from trainer.models import load_tokenizer, tiny_for

KEEP = ("prompt", "completion", "messages")


def load_sft_rows(path: str) -> list[dict[str, Any]]:
    """The SFT columns of a JSONL/JSON file (extra columns such as ``reward`` are dropped)."""
    rows = [{k: v for k, v in row.items() if k in KEEP} for row in read_jsonl(path)]
    if not rows:
        raise ValueError(f"{path}: no rows")
    shapes = {tuple(sorted(r)) for r in rows}
    if shapes not in ({("completion", "prompt")}, {("messages",)}):
        raise ValueError(f"{path}: every row needs prompt+completion, or messages; found keys {sorted(shapes)}")
    return rows


def _texts(rows: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(r) if "messages" in r else r["prompt"] + " " + r["completion"] for r in rows] + \
        [m["content"] for r in rows for m in r.get("messages", [])]


def build_trainer(cfg: RunConfig) -> Any:
    import datasets
    from trl import SFTConfig, SFTTrainer
    rows = load_sft_rows(cfg.data.source)
    if cfg.model == "tiny":
        model, tokenizer = tiny_for(cfg, _texts(rows), [r["messages"] for r in rows if "messages" in r])
    else:
        model, tokenizer = cfg.model, load_tokenizer(cfg.model)
    args = SFTConfig(**training_fields(cfg, SFTConfig))
    trainer = SFTTrainer(model=model, args=args, train_dataset=datasets.Dataset.from_list(rows),
                         processing_class=tokenizer, peft_config=cfg.lora.to_peft() if cfg.lora else None,
                         callbacks=[MetricsFileCallback(cfg.run_dir)])
    use_compact_progress(trainer)
    return trainer


def run_sft(cfg: RunConfig) -> int:
    trainer = build_trainer(cfg)
    trainer.train()
    trainer.save_model(cfg.output_dir)
    print(f"done: {trainer.state.global_step} steps; model and metrics.jsonl in {cfg.output_dir}")
    return 0
