"""The eval summary's cost: 30 AIME prompts x 64 samples, answer classes for maj@k against grading alone.

    python -m bench.eval_summary [--samples 64] [--workers 2]

The 30 problems of AIME 2024 (../shared/data/aime24.jsonl), each with ``--samples`` completions whose final
answers vary as a model's do: the reference written several ways (``204``, ``204.0``, ``\\frac{408}{2}``,
``2.04 \\times 10^2``), a few wrong numbers in several forms, some prose without an answer. In one in-process
engine (as ``reward-service eval`` without ``--url``): (a) grading the 1,920 samples, (b) the answer classes
(the grader's own comparisons, in rounds over all prompts), (c) the summary's arithmetic. The figure is
(b + c) / (a): what the summary adds to an eval that grades anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time

from bench._common import SHARED_DATA, print_table
from reward_service import recipes
from reward_service.engine import GradingEngine
from reward_service.eval_summary import answer_classes, summarize
from reward_service.evaluate import group
from reward_service.schemas import ScoreItem
from reward_service.settings import Settings


def forms(n: int) -> list[str]:
    """Ways a model writes the number ``n`` as its final answer."""
    return [f"\\boxed{{{n}}}", f"\\boxed{{{n}.0}}", f"\\boxed{{\\frac{{{2 * n}}}{{2}}}}", f"The answer is {n}.",
            f"\\boxed{{{n / 100:g} \\times 10^2}}"]


def samples(problem: dict, k: int, rng: random.Random) -> list[dict]:
    answer = int(problem["answer"])
    wrong = [answer + d for d in rng.sample([-3, -1, 1, 2, 7, 100], 3)]
    out = []
    for _ in range(k):
        roll = rng.random()
        n = answer if roll < 0.45 else wrong[int(roll * 10) % 3]
        text = "I could not finish this one." if roll > 0.93 else rng.choice(forms(n))
        out.append({"prompt_id": problem["id"], "completion": f"<think>...</think> {text}", "answer": problem["answer"],
                    "task": "math"})
    return out


async def run(k: int, workers: int) -> list[dict]:
    problems = [json.loads(line) for line in (SHARED_DATA / "aime24.jsonl").read_text().splitlines()]
    rng = random.Random(0)
    rows = [row for p in problems for row in samples(p, k, rng)]
    engine = GradingEngine(Settings(workers=workers))
    await engine.start()
    accuracy = recipes.resolve("accuracy", "accuracy")
    compared: list[int] = []

    async def score(batch: list[ScoreItem]):
        compared.append(len(batch))
        return await engine.score(batch, accuracy)
    try:
        started = time.perf_counter()
        results = await engine.score([ScoreItem.model_validate(r) for r in rows], accuracy)
        graded_s = time.perf_counter() - started
        graded = [{**r, "result": res.model_dump(mode="json")} for r, res in zip(rows, results, strict=True)]
        groups = group(graded)
        started = time.perf_counter()
        votes = await answer_classes(graded, groups, score)
        classes_s = time.perf_counter() - started
        started = time.perf_counter()
        numbers = summarize(graded, votes, groups)
        summary_s = time.perf_counter() - started
    finally:
        await engine.aclose()
    overall = numbers["overall"]
    print(f"{len(problems)} prompts x {k} samples; {sum(compared)} comparisons in {len(compared)} rounds; "
          f"mean {overall['mean']:.3f} ± {overall['stderr']:.3f}, pass@1 {overall['pass@1']:.3f}, "
          f"maj@{k} {overall.get(f'maj@{k}', float('nan')):.3f}")
    return [{"step": "(a) grading the samples", "s": graded_s, "x grading": 1.0},
            {"step": "(b) answer classes (maj@k)", "s": classes_s, "x grading": classes_s / graded_s},
            {"step": "(c) the summary's arithmetic", "s": summary_s, "x grading": summary_s / graded_s},
            {"step": "(b + c): what the summary adds", "s": classes_s + summary_s,
             "x grading": (classes_s + summary_s) / graded_s}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print_table(asyncio.run(run(args.samples, args.workers)))


if __name__ == "__main__":
    main()
