"""How often our instruction checkers give the reference's verdict, strict and loose, on a corpus built for it.

    python -m bench.ifeval_agreement [--open-instruct PATH] [--ifbench PATH] [--show]

Run it in the test-only environment of bench/README.md ("ifeval_agreement"). Each corpus case (bench/ifeval_cases/)
is an instruction id, its kwargs and responses; every response of its own and of the shared pool is checked by
our registry (through :func:`parse_label`, as the service does) and by the reference: Google's code as lm-eval
ships it for IFEval's 25 ids, open-instruct's IFEvalG for its additions and ``if_functions`` for Tulu 3's
``func_name`` form, IFBench's own code for its ids. Strict is the reference's check on the response; loose its
check on IFEval's eight variants. langdetect is seeded for both (the reference leaves it unseeded: random on
short text). A reference that raises is counted apart (``ref error``), never as a disagreement.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import ifeval_cases
from reward_service.grading.ifeval import CHECKERS, LabelError, parse_label
from reward_service.grading.ifeval.text import detect_language, loose_variants

RefCheck = Callable[[str], bool]


def corpus() -> tuple[list[tuple[str, str, dict, list[str]]], list[str]]:
    """(module, id, kwargs, responses) for every case, and the shared pool."""
    cases, pool = [], []
    for info in pkgutil.iter_modules(ifeval_cases.__path__):
        module = importlib.import_module(f"bench.ifeval_cases.{info.name}")
        pool += getattr(module, "POOL", [])
        cases += [(info.name, iid, kwargs, responses) for iid, kwargs, responses in module.CASES]
    return cases, pool


class References:
    """Builds the reference's checker for an (id, kwargs), from whichever code owns that id."""

    def __init__(self, open_instruct: str | None, ifbench: str | None) -> None:
        from bench.ifeval_reference import load_registry
        self.google = load_registry("ifeval")
        self.ifevalg = load_registry("ifevalg", open_instruct) if open_instruct else {}
        self.ifbench = load_registry("ifbench", ifbench) if ifbench else {}
        self.tulu: Any = None
        if open_instruct:
            sys.path.insert(0, str(Path(open_instruct) / "open_instruct"))
            self.tulu = importlib.import_module("if_functions")

    def family(self, iid: str) -> str | None:
        if iid in self.google:
            return "ifeval"
        if iid.startswith("tulu3:"):
            return "tulu3" if self.tulu else None
        if iid in self.ifevalg:
            return "ifevalg"
        return "ifbench" if iid in self.ifbench else None

    def checker(self, iid: str, kwargs: dict, prompt: str) -> RefCheck:
        if iid.startswith("tulu3:"):
            fn = getattr(self.tulu, iid.removeprefix("tulu3:"))
            return lambda response: bool(fn(response.strip(), **kwargs))  # IFEvalVerifierOld strips
        registry = self.google if iid in self.google else self.ifevalg if iid in self.ifevalg else self.ifbench
        instruction = registry[iid](iid)
        instruction.build_description(**{k: v for k, v in kwargs.items() if v is not None})
        args = instruction.get_instruction_args()
        if args and "prompt" in args:
            instruction.build_description(prompt=prompt)
        return lambda response: bool(instruction.check_following(response))


def reference_verdicts(check: RefCheck, response: str) -> tuple[bool, bool]:
    strict = bool(response.strip()) and check(response)
    loose = strict or any(v.strip() and check(v) for v in loose_variants(response)[1:])
    return strict, loose


Stats = dict[str, dict[str, int]]
PROMPT = "Write a short poem about the sea."


def compare_one(refs: References, iid: str, kwargs: dict, responses: list[str], row: dict[str, int],
                disagreements: list[dict[str, Any]]) -> None:
    """One (id, kwargs) on every response: counts into ``row``, differences into ``disagreements``."""
    try:
        instruction = parse_label(json.dumps({"instruction_id_list": [iid], "kwargs": [kwargs]}), PROMPT)[0]
    except LabelError as exc:
        row["refused"] += 1
        disagreements.append({"id": iid, "kwargs": kwargs, "ours": f"invalid: {exc}"})
        return
    try:
        ref = refs.checker(iid, kwargs, PROMPT)
    except Exception as exc:  # noqa: BLE001  (the reference cannot take this label)
        row["ref refused"] += 1
        disagreements.append({"id": iid, "kwargs": kwargs, "reference": f"refused: {exc!r}"})
        return
    for response in responses:
        row["pairs"] += 1
        try:
            theirs = reference_verdicts(ref, response)
        except Exception as exc:  # noqa: BLE001  (the reference's own crash, counted apart)
            row["ref error"] += 1
            disagreements.append({"id": iid, "kwargs": kwargs, "response": response,
                                  "reference": f"raised {type(exc).__name__}: {exc}"})
            continue
        strict, loose, why = CHECKERS[iid](response, instruction.kwargs, PROMPT)
        row["strict agree"] += strict == theirs[0]
        row["loose agree"] += loose == theirs[1]
        row["followed (ref strict)"] += theirs[0]
        if (strict, loose) != theirs:
            disagreements.append({"id": iid, "kwargs": kwargs, "response": response, "ours": [strict, loose],
                                  "reference": list(theirs), "why": why})


def report(stats: Stats, disagreements: list[dict[str, Any]]) -> None:
    print(f"{'family':10} {'pairs':>7} {'strict':>8} {'loose':>8} {'followed':>9} {'ref error':>9} "
          f"{'refused':>8} {'ref refused':>11}")
    for family, row in sorted(stats.items()):
        scored = row["pairs"] - row["ref error"]
        pct = (lambda n, d=scored: f"{100 * n / d:.2f}%") if scored else (lambda n: "-")
        print(f"{family:10} {row['pairs']:7d} {pct(row['strict agree']):>8} {pct(row['loose agree']):>8} "
              f"{row['followed (ref strict)']:9d} {row['ref error']:9d} {row['refused'] + row['no reference']:8d} "
              f"{row['ref refused']:11d}")
    by_id: dict[str, int] = defaultdict(int)
    for d in disagreements:
        by_id[d["id"]] += 1
    if by_id:
        print("\ndisagreements (and reference errors) by id: " +
              ", ".join(f"{iid} {n}" for iid, n in sorted(by_id.items(), key=lambda kv: -kv[1])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open-instruct", help="an open-instruct checkout (IFEvalG and Tulu 3's if_functions)")
    parser.add_argument("--ifbench", help="an IFBench checkout")
    parser.add_argument("--show", action="store_true", help="list every disagreement")
    parser.add_argument("--json", help="write the disagreements here")
    args = parser.parse_args()
    detect_language("seed langdetect")  # seeds the detector both sides share
    refs = References(args.open_instruct, args.ifbench)
    cases, pool = corpus()
    stats: Stats = defaultdict(lambda: defaultdict(int))
    disagreements: list[dict[str, Any]] = []
    for module, iid, kwargs, own in cases:
        family = refs.family(iid)
        if family is None:
            stats[module]["no reference"] += 1
        else:
            compare_one(refs, iid, kwargs, own + pool, stats[family], disagreements)
    report(stats, disagreements)
    if args.show:
        for d in disagreements:
            print(json.dumps(d, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(disagreements, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
