"""Other projects' own grader test suites, graded through the service (../shared/data/peer_math).

    python -m bench.peer_math            # starts a service on loopback
    python -m bench.peer_math --url URL  # or grades against a running one

Math-Verify's, lighteval's and NeMo-Skills' test cases as (gold, pred, expected). Where a peer ran its test
with a setting we also have (a float precision, ``strict=False``) the case is graded with that setting;
where its label comes from a setting we do not copy (LaTeX-only extraction, letter extraction, a language
mode) or from a slip, we judge by the mathematics: :data:`OVERRULED` gives the truth and why. Agreement is
counted on the cases whose label is mathematically right; :data:`DISAGREEMENTS` explains every one of
those where we still differ (tests/reward_service/test_peer_math.py checks that the lists stay exact).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from typing import Any

from bench._common import SHARED_DATA, print_table, start_service
from reward_service.client import RewardClient

SUITES = ("mathverify", "lighteval", "nemo_skills")

# id -> (the mathematically right verdict, why the peer's label differs from it)
OVERRULED: dict[str, tuple[bool, str]] = {
    "mathverify/test_all/test_latex_notation/5": (
        True, "'Answer $ \\n 9 \\n $' answers 9; the label is False only because the peer's LaTeX-only "
              "extraction does not let inline math span lines"),
    "mathverify/test_all/test_latex_notation/6": (
        True, "'Answer \\( \\n 9 \\n \\)' answers 9; same line-spanning rule of the peer's extractor"),
    "mathverify/test_all/test_set_rel_assymetry/3": (
        True, "-2 <= x <= 7 is the set [-2, 7]; the label is False only under the peer's "
              "allow_set_relation_comp=False, a setting the service does not offer"),
    "mathverify/test_yujianll/test_string_extraction/9": (
        False, "1 + 1/e is not 1 - 1/e; the peer's test checks extraction only and labels the pair True"),
    # Chains of equalities whose sides differ: the peer grades a chain by its last side, which lets a chain
    # count for whichever value is written last (issue 17); a false equality is no answer.
    **dict.fromkeys(("mathverify/test_all/test_relations_math/10", "mathverify/test_all/test_relations_math/12"), (
        False, "'x = 5+5+1 = 7 = 11' states 11 = 7 and 7 = 11: a chain whose sides differ is no answer")),
    "mathverify/test_all/test_relations_math/13": (
        False, "'x = 5+5+1 = 1/3 \\approx 11' states 11 = 1/3: a chain whose sides differ is no answer"),
    **dict.fromkeys(("mathverify/test_all/test_relations_math/26", "mathverify/test_all/test_relations_math/27"), (
        False, "'z = 3+3 = 2' states 6 = 2: a chain whose sides differ is no answer")),
    "mathverify/test_all/test_latex_notation/9": (
        False, "'\\frac{1}{2} \\$ = \\frac{10}{9}' states 1/2 = 10/9 (the escaped dollar is a currency sign): "
               "a chain whose sides differ is no answer"),
}

# id -> why we differ from a label that is mathematically right
DISAGREEMENTS: dict[str, str] = {
    "mathverify/test_all/test_number_extraction/6": (
        "reference '1,22' (a decimal comma) is read as the list 1, 22, as a LaTeX answer '1,22' would be; "
        "a decimal comma is read only in an answer, against a reference that is a number"),
    "mathverify/test_all/test_number_extraction/7": (
        "'Soucis : 2,74 $ a..' is a short line of French with a stray dollar: read as one bare answer, it "
        "does not parse"),
    "mathverify/test_numina_cases/test_numina_cases/24": (
        "the reference is damaged LaTeX ('\\\\boxed{W(n) = 1 \\\\text{ and } W(n) = -1', unclosed, escaped "
        "twice) and names W(n) where the answer names W(x)"),
}


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for suite in SUITES
            for line in (SHARED_DATA / "peer_math" / f"{suite}.jsonl").read_text().splitlines() if line.strip()]


def accuracy_options(case: dict[str, Any]) -> dict[str, Any]:
    """The recipe options equivalent to the peer's non-default settings that we also have."""
    quirks, config = " ".join(case["config_quirks"]), case["config"]
    options: dict[str, Any] = {}
    if "precision=" in quirks:
        options["float_rounding"] = config["precision"]
    if "strict=False" in quirks:
        options["strict"] = False
    return options


def truth(case: dict[str, Any]) -> bool:
    return OVERRULED[case["id"]][0] if case["id"] in OVERRULED else bool(case["expected"])


def grade(url: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each case graded by the service (one request per group of equal options); rows in input order."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, case in enumerate(cases):
        groups[json.dumps(accuracy_options(case), sort_keys=True)].append(i)
    rows: list[dict[str, Any]] = [{} for _ in cases]
    with RewardClient(url, timeout=300, max_batch=100) as client:
        for options, indices in groups.items():
            recipe = {"components": {"accuracy": {"weight": 1.0, "options": json.loads(options)}}}
            items = [{"id": cases[i]["id"], "completion": cases[i]["pred"], "answer": cases[i]["gold"]}
                     for i in indices]
            for i, result in zip(indices, client.score(items, recipe), strict=True):
                case = cases[i]
                rows[i] = {"id": case["id"], "suite": case["id"].split("/", 1)[0], "label": case["expected"],
                           "truth": truth(case), "ours": result.components.get("accuracy") == 1.0,
                           "status": result.status.value,
                           "extracted": (result.details.get("accuracy") or {}).get("extracted")}
    return rows


def summary(rows: list[dict[str, Any]]) -> list[dict[str, object]]:
    table = []
    for suite in (*SUITES, "all"):
        part = [r for r in rows if suite in ("all", r["suite"])]
        right = [r for r in part if r["label"] == r["truth"]]
        agree = sum(r["ours"] == r["truth"] for r in right)
        table.append({"suite": suite, "cases": len(part), "label right": len(right), "we agree": agree,
                      "agreement": f"{agree / len(right):.1%}",
                      "we match the label": sum(r["ours"] == r["label"] for r in part)})
    return table


def report(rows: list[dict[str, Any]]) -> None:
    print_table(summary(rows))
    print("\nLabels we overrule (judged by the mathematics):")
    for case_id, (right, why) in OVERRULED.items():
        ours = next(r["ours"] for r in rows if r["id"] == case_id)
        print(f"  {case_id}: truth {right}, ours {ours} — {why}")
    print("\nDisagreements with mathematically right labels:")
    for r in rows:
        if r["label"] == r["truth"] and r["ours"] != r["truth"]:
            print(f"  {r['id']}: label {r['label']}, ours {r['ours']} (graded {r['extracted']!r}, {r['status']})"
                  f"\n    why: {DISAGREEMENTS.get(r['id'], 'NOT EXPLAINED')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running service (default: start one on loopback)")
    args = parser.parse_args()
    if not SHARED_DATA.exists():
        raise SystemExit(f"needs the public data at {SHARED_DATA}")
    proc, url = (None, args.url) if args.url else start_service({"REWARD_WORKERS": "2"})
    try:
        report(grade(url, load()))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
