"""Our math grader on real data no one here wrote (../shared/data), with every disagreement listed.

    python bench/real_data_agreement.py

1. MATH-500: each reference solution graded against its own answer (all should match) and against the
   answer of another problem with a different answer (none should).
2. math_cot_100: 800 real model completions, labelled by the Qwen2.5-Math evaluation grader; prints the
   agreement and each disagreement with both verdicts.
"""

from __future__ import annotations

import json
import random
from multiprocessing import Pool
from pathlib import Path

from reward_service.grading.extract import split_completion
from reward_service.grading.math import grade_math

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (SHARED_DATA / name).read_text().splitlines() if line.strip()]


def grade(pair: tuple[str, str]) -> tuple[float | None, str, str | None]:
    region, reference = pair
    split = split_completion(region)
    verdict = grade_math(split.region or "", reference)
    return verdict.score, verdict.status.value, verdict.details.get("extracted")


def math500_pairs(seed: int = 0) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    rows = load("math500.jsonl")
    own = [(r["solution"], r["answer"]) for r in rows]
    rng = random.Random(seed)
    shuffled = []
    for r in rows:
        other = rng.choice(rows)
        while other["answer"].strip() == r["answer"].strip():
            other = rng.choice(rows)
        shuffled.append((r["solution"], other["answer"]))
    return own, shuffled


def cot_rows() -> list[dict]:
    out = []
    for row in load("math_cot_100.jsonl"):
        for j, (response, label) in enumerate(zip(row["response"], row["score"], strict=True)):
            out.append({"idx": row["idx"], "sample": j, "response": response, "answer": str(row["gt"]),
                        "label": bool(label), "their_pred": row["pred"][j]})
    return out


def run(processes: int = 2) -> dict:
    own, shuffled = math500_pairs()
    cot = cot_rows()
    with Pool(processes) as pool:
        own_v = pool.map(grade, own, chunksize=8)
        shuffled_v = pool.map(grade, shuffled, chunksize=8)
        cot_v = pool.map(grade, [(r["response"], r["answer"]) for r in cot], chunksize=8)
    rows = load("math500.jsonl")
    hits = [i for i, v in enumerate(shuffled_v) if v[0] == 1.0]
    # A shuffled pair whose two reference answers are themselves equal (120^\circ vs 120) is no false positive.
    same = [grade((f"\\boxed{{{own[i][1]}}}", shuffled[i][1]))[0] == 1.0 for i in hits]
    return {
        "own_miss": [(rows[i]["unique_id"], own[i][1], v) for i, v in enumerate(own_v) if v[0] != 1.0],
        "shuffled_hits": [(rows[i]["unique_id"], shuffled[i][1], shuffled_v[i]) for i, eq in zip(hits, same, strict=True)
                          if not eq],
        "shuffled_equal": [(rows[i]["unique_id"], own[i][1], shuffled[i][1]) for i, eq in zip(hits, same, strict=True)
                           if eq],
        "cot": [{**r, "ours": v[0] == 1.0, "status": v[1], "our_pred": v[2]} for r, v in zip(cot, cot_v, strict=True)],
    }


def main() -> None:
    out = run()
    cot = out["cot"]
    agree = sum(r["ours"] == r["label"] for r in cot)
    print(f"MATH-500 own answers matched: {500 - len(out['own_miss'])}/500")
    for miss in out["own_miss"]:
        print("  miss:", miss)
    print(f"MATH-500 shuffled answers matched (false positives): {len(out['shuffled_hits'])}/500")
    for hit in out["shuffled_hits"]:
        print("  false positive:", hit)
    for pair in out["shuffled_equal"]:
        print("  (not counted: the two references are equal)", pair)
    print(f"math_cot_100 agreement with the Qwen2.5-Math grader: {agree}/{len(cot)} = {agree / len(cot):.2%}")
    for r in cot:
        if r["ours"] != r["label"]:
            print(f"  idx={r['idx']} sample={r['sample']} ref={r['answer']!r} theirs={r['label']} "
                  f"(pred {r['their_pred']!r}) ours={r['ours']} (pred {r['our_pred']!r}, {r['status']})")


if __name__ == "__main__":
    main()
