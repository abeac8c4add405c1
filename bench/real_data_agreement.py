"""Our math grader on real data no one here wrote (../shared/data), with every disagreement listed.

    python -m bench.real_data_agreement

1. MATH-500: each reference solution graded against its own answer (all should match) and against the
   answer of another problem with a different answer (none should; a pair whose two references are equal,
   such as ``120^\\circ`` and ``120``, is reported apart).
2. GSM8K and AIME 2024: each reference solution against its own answer (all should match).
3. math_cot_100: 800 real model completions, labelled by the Qwen2.5-Math evaluation grader; prints the
   agreement and each disagreement with both verdicts and the reason we give for it.
4. The peer suites (Math-Verify's, lighteval's and NeMo-Skills' own test cases), graded over HTTP by a service
   started on loopback: the table and every disagreement of bench/peer_math.py.
"""

from __future__ import annotations

import json
import random
from multiprocessing import Pool

from bench import peer_math
from bench._common import SHARED_DATA, print_table, start_service
from reward_service.grading.extract import split_completion
from reward_service.grading.math import grade_math

SHUFFLE_SEED = 0
SHUFFLE_ROUNDS = 4  # 4 x 500 shuffled pairs


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (SHARED_DATA / name).read_text().splitlines() if line.strip()]


def grade(pair: tuple[str, str]) -> tuple[float | None, str, str | None]:
    """(score, status, extracted answer) of a completion against a reference, as the service grades it."""
    completion, reference = pair
    verdict = grade_math(split_completion(completion).region or "", reference)
    return verdict.score, verdict.status.value, verdict.details.get("extracted")


def _shuffled(rows: list[dict]) -> list[tuple[int, str]]:
    """For each round and row, (row index, the answer of another row whose answer is a different string)."""
    rng = random.Random(SHUFFLE_SEED)
    out = []
    for _ in range(SHUFFLE_ROUNDS):
        for i, r in enumerate(rows):
            other = rng.choice(rows)
            while other["answer"].strip() == r["answer"].strip():
                other = rng.choice(rows)
            out.append((i, other["answer"]))
    return out


def _cot_rows() -> list[dict]:
    out = []
    for row in load("math_cot_100.jsonl"):
        for j, (response, label) in enumerate(zip(row["response"], row["score"], strict=True)):
            out.append({"idx": row["idx"], "sample": j, "response": response, "answer": str(row["gt"]),
                        "label": bool(label), "their_pred": row["pred"][j]})
    return out


def _misses(ids: list[str], pairs: list[tuple[str, str]], verdicts: list[tuple]) -> list[tuple]:
    return [(ids[i], pairs[i][1], v) for i, v in enumerate(verdicts) if v[0] != 1.0]


def run(processes: int = 2) -> dict:
    """Grade everything; the raw outcome for the tests (tests/reward_service/test_real_data.py) and main()."""
    math500, gsm8k, aime = load("math500.jsonl"), load("gsm8k_test.jsonl"), load("aime24.jsonl")
    own = [(r["solution"], r["answer"]) for r in math500]
    shuffled = _shuffled(math500)
    gsm = [(r["answer"], r["answer"].split("####")[-1].strip()) for r in gsm8k]
    aim = [(r["solution"], str(r["answer"])) for r in aime]
    cot = _cot_rows()
    with Pool(processes) as pool:
        own_v, shuffled_v, gsm_v, aime_v, cot_v = (
            pool.map(grade, pairs, chunksize=16)
            for pairs in (own, [(math500[i]["solution"], a) for i, a in shuffled], gsm, aim,
                          [(r["response"], r["answer"]) for r in cot]))
        hits = [k for k, v in enumerate(shuffled_v) if v[0] == 1.0]
        # A hit whose two references are themselves equal (120^\circ vs 120) is no false positive.
        same = pool.map(grade, [(f"\\boxed{{{math500[shuffled[k][0]]['answer']}}}", shuffled[k][1]) for k in hits])
    uid = [r["unique_id"] for r in math500]
    hit_rows = [(uid[shuffled[k][0]], math500[shuffled[k][0]]["answer"], shuffled[k][1], shuffled_v[k])
                for k in hits]
    return {
        "own_miss": _misses(uid, own, own_v),
        "shuffled_pairs": len(shuffled),
        "shuffled_hits": [h for h, s in zip(hit_rows, same, strict=True) if s[0] != 1.0],
        "shuffled_equal": [h[:3] for h, s in zip(hit_rows, same, strict=True) if s[0] == 1.0],
        "gsm8k_miss": _misses([str(i) for i in range(len(gsm))], gsm, gsm_v),
        "aime_miss": _misses([str(r["id"]) for r in aime], aim, aime_v),
        "cot": [{**r, "ours": v[0] == 1.0, "status": v[1], "our_pred": v[2]} for r, v in zip(cot, cot_v, strict=True)],
    }


def main() -> None:
    # The reasons live beside the test that checks them.
    from tests.reward_service.test_real_data import EXPLAINED
    out = run()
    cot = out["cot"]
    agree = sum(r["ours"] == r["label"] for r in cot)
    print_table([
        {"check": "MATH-500 solution vs its own answer", "pairs": 500, "result": f"{500 - len(out['own_miss'])} match"},
        {"check": f"MATH-500 solution vs another answer (seed {SHUFFLE_SEED})", "pairs": out["shuffled_pairs"],
         "result": f"{len(out['shuffled_hits'])} false matches ({len(out['shuffled_equal'])} equal references)"},
        {"check": "GSM8K rationale vs its #### answer", "pairs": 1319,
         "result": f"{1319 - len(out['gsm8k_miss'])} match"},
        {"check": "AIME 2024 solution vs its answer", "pairs": 30, "result": f"{30 - len(out['aime_miss'])} match"},
        {"check": "math_cot_100 vs Qwen2.5-Math labels", "pairs": len(cot),
         "result": f"{agree} agree ({agree / len(cot):.2%})"},
    ])
    both = {(o, t): sum(r["ours"] == o and r["label"] == t for r in cot) for o in (True, False) for t in (True, False)}
    print(f"\nmath_cot_100: both correct {both[True, True]}, both wrong {both[False, False]}, only ours correct "
          f"{both[True, False]}, only theirs correct {both[False, True]}; "
          f"not ok: {sorted({(r['idx'], r['answer'], r['status']) for r in cot if r['status'] != 'ok'})}")
    for name in ("own_miss", "shuffled_hits", "gsm8k_miss", "aime_miss"):
        for row in out[name]:
            print(f"  {name}: {row}")
    for row in out["shuffled_equal"]:
        print(f"  not counted, the two references are equal: {row}")
    print("\nDisagreements with the Qwen2.5-Math grader:")
    for r in cot:
        if r["ours"] != r["label"]:
            print(f"  idx={r['idx']} sample={r['sample']} ref={r['answer']!r} theirs={r['label']} "
                  f"(pred {r['their_pred']!r}) ours={r['ours']} (pred {r['our_pred']!r}, {r['status']})\n"
                  f"    why: {EXPLAINED.get((r['idx'], r['sample']), 'NOT EXPLAINED')}")
    print("\nPeer test suites, through the service:")
    proc, url = start_service({"REWARD_WORKERS": "2"})
    try:
        peer_math.report(peer_math.grade(url, peer_math.load()))
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
