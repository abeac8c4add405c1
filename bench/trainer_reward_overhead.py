"""Reward overhead of GRPO: time waiting for rewards as a share of step time, batched async vs naive.

    python -m bench.trainer_reward_overhead [--steps 40] [--prompts 4] [--generations 8]

The same seeded run twice (tiny model on CPU, TRL's GRPOTrainer, Countdown prompts, recipe r1-zero), once
with (a) the project's reward function: one batched request per step through ``AsyncRewardClient``; once
with (b) a naive synchronous reward function that posts one request per completion. Both get the same
rewards, so both runs train identically and generate the same completions; the service runs with its
result cache off so the second run is graded afresh. Target: (a)'s share is at most a third of (b)'s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import print_table, start_service
from reward_service.client import RewardClient
from trainer.config import RunConfig, from_dict
from trainer.grpo import build_trainer, close_scorer
from trainer.rewards import build_items


class NaiveReward:
    """(b): a sync reward function, one HTTP request per completion (what a quick script does)."""

    __name__ = "naive_reward"

    def __init__(self, url: str, recipe: Any) -> None:
        self.client, self.recipe, self.wait_s = RewardClient(url), recipe, 0.0

    def __call__(self, prompts, completions, completion_ids=None, **columns):
        started = time.perf_counter()
        items = build_items(prompts, completions, completion_ids, columns, "countdown")
        rewards = [self.client.score([item], recipe=self.recipe)[0].reward for item in items]
        self.wait_s += time.perf_counter() - started
        return rewards


def run_config(url: str, out: Path, args: argparse.Namespace) -> RunConfig:
    return from_dict({
        "model": "tiny", "output_dir": str(out), "service": {"url": url, "recipe": "r1-zero"},
        "data": {"source": "builtin:countdown", "limit": 64, "template": "r1_zero"},
        "training": {"max_steps": args.steps, "num_generations": args.generations,
                     "per_device_train_batch_size": args.prompts * args.generations,
                     "max_completion_length": 32, "learning_rate": 1e-3, "seed": 0, "use_cpu": True,
                     "gradient_checkpointing": False, "disable_tqdm": True},
    })


def timed_run(cfg: RunConfig, naive: NaiveReward | None) -> tuple[float, float]:
    """(seconds waiting for rewards, seconds of training) for one run."""
    trainer, scorer = build_trainer(cfg)
    if naive is not None:
        trainer.reward_funcs = [naive]  # same trainer, only the reward function differs
    started = time.perf_counter()
    trainer.train()
    total = time.perf_counter() - started
    close_scorer(trainer, scorer)
    return (naive.wait_s if naive else scorer.wait_s), total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--prompts", type=int, default=4, help="prompts per step")
    p.add_argument("--generations", type=int, default=8, help="completions per prompt")
    args = p.parse_args()
    proc, url = start_service({"REWARD_CACHE_MAX_MB": "0", "REWARD_WORKERS": "2", "REWARD_LOG_LEVEL": "warning"})
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, naive in (("(a) async batched, 1 request/step", None),
                                ("(b) naive sync, 1 request/completion", NaiveReward(url, "r1-zero"))):
                wait, total = timed_run(run_config(url, Path(tmp) / name[:3], args), naive)
                rows.append({"reward client": name, "steps": args.steps, "train s": total, "reward wait s": wait,
                             "wait share %": 100 * wait / total})
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(f"\n{args.steps} steps x {args.prompts * args.generations} completions, tiny model on CPU\n")
    print_table(rows)
    ratio = rows[0]["wait share %"] / rows[1]["wait share %"]
    print(f"\nbatched share / naive share = {ratio:.2f} (target <= 0.33)")


if __name__ == "__main__":
    main()
