"""Eval metrics over graded samples, as lighteval and NeMo-Skills report them: mean reward (avg@n) with its
standard error over prompts, the share of samples with no readable answer, unbiased pass@k and maj@k.

Pure functions over :class:`Sample` (no grading here: what each sample's answer class is comes from
:mod:`reward_service.evaluate`, which asks the grader). A *group* is one prompt's samples, in file order.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sample:
    """One graded sample: its reward (None: not scored), whether it is correct, whether its answer could not
    be read, and its vote for maj@k (None: it casts none; equal votes are one answer class)."""

    reward: float | None
    correct: bool
    no_answer: bool
    vote: Hashable | None


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al., 2021): 1 - C(n-c, k) / C(n, k) for n samples with c correct. k > n has
    no estimate (human-eval's shortcut answers 1.0 there even when no sample is right): a ValueError."""
    if not 0 < k <= n or not 0 <= c <= n:
        raise ValueError(f"pass@{k} needs 0 < k <= n and 0 <= c <= n (n={n}, c={c})")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod((n - c - i) / (n - i) for i in range(k))


def majority(group: Sequence[Sample], k: int) -> bool:
    """maj@k of one prompt: the first ``k`` samples vote; the class with most votes wins (a tie: the class
    that appeared first); whether its first sample is right. No vote at all: wrong."""
    counts: dict[Hashable, int] = {}
    first: dict[Hashable, Sample] = {}
    for sample in group[:k]:
        if sample.vote is not None:
            counts[sample.vote] = counts.get(sample.vote, 0) + 1
            first.setdefault(sample.vote, sample)
    if not counts:
        return False
    winner = max(counts, key=lambda vote: counts[vote])  # max keeps the first of equals: insertion order
    return first[winner].correct


def ks(smallest: int) -> list[int]:
    """k = 1, 2, 4, ... up to the smallest group's size."""
    out, k = [], 1
    while k <= smallest:
        out.append(k)
        k *= 2
    return out


def stderr(values: Sequence[float]) -> float | None:
    """The standard error of the mean of ``values`` (sample standard deviation / sqrt(n)); None below 2."""
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else None


def summary(groups: Sequence[Sequence[Sample]]) -> dict[str, Any]:
    """One bucket's numbers. Only scored samples count; a prompt counts once (its mean reward), so prompts
    with more samples do not weigh more. pass@k and maj@k for k up to the smallest group."""
    scored = [[s for s in g if s.reward is not None] for g in groups]
    scored = [g for g in scored if g]
    samples = [s for g in scored for s in g]
    means = [statistics.fmean(s.reward for s in g if s.reward is not None) for g in scored]
    out: dict[str, Any] = {
        "samples": sum(len(g) for g in groups), "scored": len(samples), "prompts": len(scored),
        "mean": statistics.fmean(means) if means else None, "stderr": stderr(means),
        "accuracy": sum(s.correct for s in samples) / len(samples) if samples else None,
        "no_answer": sum(s.no_answer for s in samples) / len(samples) if samples else None,
    }
    for k in ks(min(map(len, scored), default=0)):
        out[f"pass@{k}"] = statistics.fmean(pass_at_k(len(g), sum(s.correct for s in g), k) for g in scored)
        out[f"maj@{k}"] = statistics.fmean(majority(g, k) for g in scored)
    return out
