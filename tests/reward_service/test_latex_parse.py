"""Two-stage parsing (SLL, then LL when SLL fails) must give exactly what plain LL parsing gives."""

from __future__ import annotations

import json
from pathlib import Path

from reward_service.grading import latex_parse
from reward_service.grading.answer_span import find_answer

CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "math_cases.jsonl").read_text().splitlines()]


def _parse(text: str, fast: bool) -> str:
    from latex2sympy2_extended.latex2sympy2 import latex2sympy
    try:
        if fast:
            with latex_parse.sll():
                return str(latex2sympy(text))
        return str(latex2sympy(text))
    except Exception as exc:  # noqa: BLE001 - a failure is an outcome to compare too
        return f"error: {type(exc).__name__}"


def test_sll_first_parses_like_ll_on_the_corpus():
    texts = {c["reference"] for c in CASES} | {c["answer"] for c in CASES if "answer" in c}
    texts |= {span.text for c in CASES if "region" in c and (span := find_answer(c["region"])) is not None}
    texts |= set(latex_parse.WARM_FORMS)
    differ, sll_failed = [], 0
    for text in sorted(texts):
        ll = _parse(text, fast=False)
        two_stage = _parse(text, fast=True)
        if two_stage.startswith("error"):
            sll_failed += 1
            two_stage = _parse(text, fast=False)  # what the grader does next
        if two_stage != ll:
            differ.append((text, ll, two_stage))
    assert len(texts) >= 500 and differ == []
    assert 0 < sll_failed < len(texts) // 5  # SLL is really on (some fail it), and decides most on its own


def test_sll_mode_is_scoped_to_the_block():
    with latex_parse.sll():
        pass
    assert not getattr(latex_parse._mode, "sll", False)


def test_fast_paths_agree_with_the_parser():
    import math_verify

    from reward_service.grading.math import _latex_config, parse_whole
    for text in ("42", "-7", "1,000", "0,111", "007", "\\frac{3}{4}", "-\\dfrac{1}{2}", "\\frac{4}{2}", "\\tfrac{0}{5}",
                 "\\frac{1}{0}"):
        parsed = math_verify.parse(f"\\boxed{{{text}}}", extraction_config=_latex_config(), parsing_timeout=None)
        expected = parsed[0] if parsed and not isinstance(parsed[0], str) and parsed[0].is_finite else None
        ours = parse_whole(text)
        assert (ours[0] if ours else None) == expected, text
