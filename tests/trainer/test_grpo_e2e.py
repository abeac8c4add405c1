"""End to end on CPU: the reward service on loopback, the tiny model, TRL's GRPOTrainer, seeded."""

from __future__ import annotations

import dataclasses
import json
import logging
import math

import pytest
from transformers import TrainerCallback

from tests.trainer.conftest import scored_counts, tiny_config
from trainer.callbacks import read_metrics
from trainer.grpo import build_trainer, close_scorer

pytestmark = pytest.mark.slow


def train(cfg, callbacks=()):
    trainer, scorer = build_trainer(cfg, callbacks=callbacks)
    try:
        trainer.train()
    finally:
        close_scorer(trainer, scorer)
    return trainer, scorer


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grpo_learns_from_service_rewards_over_http(fresh_service, tmp_path, seed):
    """The shipped CPU demo learns for any seed (a sweep of 16 seeds: the last-30-step mean reward went from
    0.28-0.36 to 0.969-1.000 for every one)."""
    cfg = tiny_config(tmp_path / "run", fresh_service.url, steps=300)
    cfg = dataclasses.replace(cfg, training={**cfg.training, "seed": seed}, tiny={**cfg.tiny, "seed": seed})
    trainer, scorer = train(cfg)
    rows = read_metrics(tmp_path / "run")
    rewards = [r["reward"] for r in rows]
    steps, per_step = cfg.training["max_steps"], cfg.training["num_generations"]
    assert len(rewards) == steps
    first, last = sum(rewards[:30]) / 30, sum(rewards[-30:]) / 30
    assert last > first + 0.4 and last > 0.9, (seed, first, last)

    # Every reward came from the service: one POST /score per step, every completion graded there, and
    # each step's logged reward is the mean of what the service answered for it.
    assert (scorer.requests, scorer.scored, scorer.unscored) == (steps, steps * per_step, 0)
    assert scored_counts(fresh_service.url) == (steps, steps * per_step)
    for row, call in zip(rows[-len(scorer.history):], scorer.history, strict=True):
        assert row["reward"] == pytest.approx(sum(call["rewards"]) / len(call["rewards"]), abs=1e-5)
    # Our metrics sit beside TRL's: component means, unscored fraction, wait time, reflection rate.
    assert {"service/tag_count", "service/format", "service/unscored_frac", "service/wait_s",
            "reflection_rate", "completions/mean_length"} <= set(rows[-1])
    assert rows[-1]["service/tag_count"] == pytest.approx(rows[-1]["reward"], abs=1e-5)


class StopServiceAt(TrainerCallback):
    """Kills the service process after ``step``: an outage in the middle of a run."""

    def __init__(self, service, step: int) -> None:
        self.service, self.step = service, step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            self.service.stop()


def test_service_outage_gives_none_rewards_and_one_clear_log_line(fresh_service, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="trainer.rewards")
    cfg = tiny_config(tmp_path / "run", fresh_service.url, steps=12)
    trainer, scorer = train(cfg, callbacks=[StopServiceAt(fresh_service, 5)])

    assert trainer.state.global_step == 12  # no crash: the run went on
    calls = scorer.history
    n = len(calls[0]["rewards"])  # completions per step
    assert all(c["error"] is None for c in calls[:5])
    assert all(c["error"] is not None and c["rewards"] == [None] * n for c in calls[5:])  # None, never 0
    assert (scorer.scored, scorer.unscored, scorer.failed_requests) == (5 * n, 7 * n, 7)

    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "service/unscored_frac" in r]
    assert [r["service/unscored_frac"] for r in steps] == [0.0] * 5 + [1.0] * 7
    assert all(r["reward"] is None or math.isnan(r["reward"]) for r in steps[5:])  # NaN written as null

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "trainer.rewards"]
    assert len(errors) == 1
    assert "REWARD SERVICE UNAVAILABLE" in errors[0].getMessage()
    assert "None" in errors[0].getMessage()
