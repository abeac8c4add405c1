"""Math accuracy: is the final answer symbolically equal to the reference? Built on math-verify.

math-verify does the parsing (LaTeX and plain expressions) and the comparison. Around it we:

* disable its ``signal.alarm`` timeouts: they only work on a main thread and, when they fire, return
  ``False`` as if the answer were wrong. The caller enforces a hard limit by killing the grader process, so a
  hang becomes ``status: timeout``, never a silent 0;
* refuse to grade against a reference that does not parse (``invalid``), instead of scoring everyone 0;
* veto its numeric false positives: it compares ``(a - b).evalf(chop=True)`` with 0, and chopping makes any
  two tiny numbers equal (``1/2^99`` vs ``1/2^98``, ``1/2004!`` vs ``1/2006!``). Exact numbers that differ
  in relative terms at 50 digits are not equal;
* normalise plain scientific notation (``1e-5``), which math-verify reads as ``e - 5``, and thin-space
  thousands separators (``1\\,000``);
* give second chances for two conventions it misses (see :func:`_lenient`): multiple-choice letters in
  prose, and percentages against a bare number;
* cache the parsed reference per process: a GRPO group shares it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reward_service.grading.extract import last_boxed
from reward_service.grading.types import Verdict

logging.getLogger("math_verify").setLevel(logging.ERROR)  # it warns on every call with timeouts off

_SCI = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*[eE]\s*([+-]?\d+)\s*$")
_THIN_THOUSANDS = re.compile(r"(?<=\d)(?:\\,|\\ |~)(?=\d{3}(?!\d))")  # 1\,000 → 1000
_PERCENT = re.compile(r"\\?%")
_LETTER = re.compile(r"^\s*(?:\\text(?:bf)?\{)?\s*\(?([A-E])\)?\s*\}?\s*$")
_LETTER_IN_PROSE = re.compile(r"\(([A-E])\)|\b(?i:answer|option|choice)\s*(?:is|:)?\s*\(?([A-E])\b")
_TINY = 1e-10      # below this absolute difference math-verify's chop may have hidden a real one
_DISTINCT = 1e-30
BARE_ANSWER_CHARS = 120  # a short region with no recognisable answer is read as one bare LaTeX answer  # relative difference at 50 digits that no exact-equal pair reaches


@dataclass(frozen=True)
class MathOptions:
    float_rounding: int = 6      # decimals kept when an answer is a float (0.333333 vs 1/3)
    numeric_precision: int = 15  # digits for numeric comparison of exact expressions
    strict: bool = True          # variables matter: x+1 is not y+1


@lru_cache(maxsize=1)
def _configs() -> tuple[list[Any], list[Any]]:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig
    from math_verify.parser import NormalizationConfig
    latex = LatexExtractionConfig(
        # malformed_operators: \frac12 and \sqrt2 are valid LaTeX for \frac{1}{2} and \sqrt{2}.
        normalization_config=NormalizationConfig(basic_latex=True, units=True, malformed_operators=True,
                                                 nits=False, boxed="all"),
        boxed_match_priority=0,            # a box in the region beats other anchors
        try_extract_without_anchor=False,  # no "last math anywhere" guessing in free text
    )
    # The reference is a bare answer: take it as a whole, LaTeX first, then a plain expression.
    gold = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    return gold, [latex, ExprExtractionConfig()]


def _normalise(answer: str) -> str:
    m = _SCI.match(answer)
    if m:
        return f"{m.group(1)}\\times 10^{{{int(m.group(2))}}}"
    return _THIN_THOUSANDS.sub("", answer)


def _has_expression(parsed: list[Any]) -> bool:
    return any(not isinstance(p, str) for p in parsed)


@lru_cache(maxsize=4096)
def _parse_reference(reference: str) -> tuple[Any, ...]:
    from math_verify import parse
    return tuple(parse(f"\\boxed{{{_normalise(reference.strip())}}}", extraction_config=_configs()[0],
                       parsing_timeout=None))


def _parse_prediction(region: str) -> tuple[list[Any], str | None]:
    from math_verify import parse
    boxed = last_boxed(region)
    if boxed is not None:
        parsed = parse(f"\\boxed{{{_normalise(boxed)}}}", extraction_config=_configs()[1], parsing_timeout=None)
        return parsed, boxed
    parsed = parse(_normalise(region), extraction_config=_configs()[1], parsing_timeout=None)
    bare = region.strip()
    if not parsed and 0 < len(bare) <= BARE_ANSWER_CHARS:
        # "<answer>\frac{1}{3}</answer>": bare LaTeX with no delimiters is the answer itself.
        parsed = parse(f"\\boxed{{{_normalise(bare)}}}", extraction_config=_configs()[1], parsing_timeout=None)
    return parsed, next((p for p in parsed if isinstance(p, str)), None)


def _numerically_distinct(a: Any, b: Any) -> bool:
    """True when two exact numbers differ although their difference is too small for chop (see module doc)."""
    from sympy import Expr, Float
    if not (isinstance(a, Expr) and isinstance(b, Expr)) or a.free_symbols or b.free_symbols:
        return False
    if a.has(Float) or b.has(Float):  # float answers keep math-verify's rounding rule
        return False
    try:
        va, vb = a.evalf(50), b.evalf(50)
        diff, scale = abs(va - vb), max(abs(va), abs(vb))
        return bool(diff < _TINY and scale > 0 and diff / scale > _DISTINCT)
    except (TypeError, ValueError, AttributeError):
        return False


def _equal(gold: tuple[Any, ...], pred: list[Any], options: MathOptions) -> bool:
    from math_verify import verify
    for g in gold:
        for p in pred:
            if verify([g], [p], float_rounding=options.float_rounding, numeric_precision=options.numeric_precision,
                      strict=options.strict, timeout_seconds=None) and not _numerically_distinct(g, p):
                return True
    return False


def _lenient(region: str, reference: str, options: MathOptions) -> str | None:
    """Second chances for conventions math-verify misses; the answer that matched, or None.

    A multiple-choice reference ("B", "(B)", "\\text{(B)}") matches the last "(B)" or "answer is B" in prose;
    a percentage matches its number ("12.5\\%" vs "12.5"), as MATH-style references drop the sign.
    """
    letter = _LETTER.match(reference)
    if letter:
        found = _LETTER_IN_PROSE.findall(region)
        chosen = next((g for g in found[-1] if g), None) if found else None
        return f"({chosen})" if chosen == letter.group(1) else None
    if _PERCENT.search(reference) or _PERCENT.search(region):
        gold = _parse_reference(_PERCENT.sub("", reference))
        pred, extracted = _parse_prediction(_PERCENT.sub("", region))
        if pred and _has_expression(list(gold)) and _equal(gold, pred, options):
            return extracted or str(pred[0])
    return None


def grade_math(region: str, reference: str, options: MathOptions = MathOptions()) -> Verdict:
    """1.0 if ``region``'s final answer equals ``reference``, 0.0 if not or absent; invalid reference → invalid."""
    gold = _parse_reference(reference)
    if not _has_expression(list(gold)):
        return Verdict.invalid(f"unparseable reference {reference[:200]!r}", reference=reference[:200])
    pred, extracted = _parse_prediction(region)
    shown = str(gold[0])[:200]
    if pred and _equal(gold, pred, options):
        return Verdict.ok(1.0, extracted=(extracted or str(pred[0]))[:200], reference=shown, matched=True)
    second = _lenient(region, reference, options)
    if second is not None:
        return Verdict.ok(1.0, extracted=second[:200], reference=shown, matched=True)
    if not pred:
        return Verdict.ok(0.0, reason="no answer found", extracted=None, reference=shown, matched=False)
    return Verdict.ok(0.0, reason="not equivalent", extracted=(extracted or str(pred[0]))[:200], reference=shown,
                      matched=False)


def warmup() -> None:
    """Import math-verify, sympy and the ANTLR parser, and run one grading end to end."""
    grade_math("\\boxed{\\frac{1}{2}}", "0.5")
