"""``sample``: rejection sampling, the R1 stage that turns an RL checkpoint into SFT data.

For every prompt, generate ``k`` completions (transformers ``generate``), grade them all through the service
(one batched request per batch of prompts), keep those whose required components (``accuracy`` and
``format`` by default) are 1.0, and write them as ``{"prompt", "completion"}`` JSONL — the input of
``sft``. Unscored completions (status not ok) are never accepted, and counted apart from rejections.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reward_service.client import RewardClient
from reward_service.schemas import ItemResult, Status
from trainer.config import RunConfig, SampleConfig
from trainer.data import write_jsonl
from trainer.models import load_causal_lm, model_and_data
from trainer.rewards import build_items

logger = logging.getLogger("trainer.sample")


@dataclass
class SampleStats:
    prompts: int = 0
    completions: int = 0
    accepted: int = 0
    unscored: int = 0
    prompts_with_accepted: int = 0

    def table(self) -> str:
        rate = self.accepted / self.completions if self.completions else 0.0
        covered = self.prompts_with_accepted / self.prompts if self.prompts else 0.0
        return (f"prompts {self.prompts}  completions {self.completions}  accepted {self.accepted} "
                f"({rate:.1%})  unscored {self.unscored}  prompts with >=1 accepted "
                f"{self.prompts_with_accepted} ({covered:.1%})")


def accepted(result: ItemResult, require: Sequence[str]) -> bool:
    """Scored, and every required component present and at full marks."""
    return result.status is Status.ok and all(result.components.get(name) == 1.0 for name in require)


def generate(model: Any, tokenizer: Any, prompts: list[str], cfg: SampleConfig) -> list[list[str]]:
    """``k`` sampled continuations (text, special tokens dropped) for each prompt."""
    import torch
    tokenizer.padding_side = "left"
    batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
    with torch.no_grad():
        out = model.generate(**batch, do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p,
                             max_new_tokens=cfg.max_new_tokens, num_return_sequences=cfg.k,
                             pad_token_id=tokenizer.pad_token_id)
    texts = tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    return [texts[i * cfg.k:(i + 1) * cfg.k] for i in range(len(prompts))]


def _select(rows: list[dict[str, Any]], completions: list[list[str]], results: list[ItemResult],
            cfg: SampleConfig, stats: SampleStats) -> list[dict[str, Any]]:
    kept = []
    for i, row in enumerate(rows):
        mine = results[i * cfg.k:(i + 1) * cfg.k]
        good = [(c, r) for c, r in zip(completions[i], mine, strict=True) if accepted(r, cfg.require)]
        good = good[:cfg.max_per_prompt] if cfg.max_per_prompt else good
        stats.unscored += sum(r.status is not Status.ok for r in mine)
        stats.prompts_with_accepted += bool(good)
        kept += [{"prompt": row["prompt"], "completion": c, "reward": r.reward, "source": "rejection-sampling"}
                 for c, r in good]
    return kept


def run_sample(cfg: RunConfig) -> SampleStats:
    """Sample, grade, keep, write; returns the acceptance statistics (also printed)."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(cfg.sample.seed)
    model, tokenizer, dataset = model_and_data(cfg)
    model = load_causal_lm(model).eval()
    out = Path(cfg.sample.out or cfg.run_dir / "accepted.jsonl")
    stats, kept = SampleStats(), []
    columns = [c for c in dataset.column_names if c != "prompt"]
    with RewardClient(cfg.service.url, api_key=cfg.service.resolved_api_key(), timeout=cfg.service.timeout_s,
                      retries=cfg.service.retries, backoff=cfg.service.backoff_s,
                      max_batch=cfg.service.max_batch) as client:
        bar = tqdm(range(0, len(dataset), cfg.sample.batch_prompts), desc="sampling", unit="batch")
        for start in bar:
            rows = dataset.select(range(start, min(start + cfg.sample.batch_prompts, len(dataset)))).to_list()
            completions = generate(model, tokenizer, [r["prompt"] for r in rows], cfg.sample)
            repeated = [r for r in rows for _ in range(cfg.sample.k)]
            items = build_items([r["prompt"] for r in repeated], [c for cs in completions for c in cs], None,
                                {c: [r[c] for r in repeated] for c in columns}, cfg.data.task)
            results = client.score(items, recipe=cfg.service.recipe)
            kept += _select(rows, completions, results, cfg.sample, stats)
            stats.prompts += len(rows)
            stats.completions += len(items)
            stats.accepted = len(kept)
            bar.set_postfix(accepted=f"{stats.accepted}/{stats.completions}")
    write_jsonl(out, kept)
    print(stats.table())
    print(f"wrote {len(kept)} accepted completions to {out}")
    return stats
