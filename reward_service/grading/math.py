"""Math accuracy: is the final answer symbolically equal to the reference? Built on math-verify.

math-verify does the parsing (LaTeX and plain expressions) and the comparison. Around it we:

* disable its ``signal.alarm`` timeouts: they only work on a main thread and, when they fire, return
  ``False`` as if the answer were wrong. The caller enforces a hard limit by killing the grader process, so a
  hang becomes ``status: timeout``, never a silent 0. For the same reason a comparison that raises is not
  swallowed into ``False``: resource exhaustion propagates, anything else is a 0 whose reason says so;
* refuse to grade against a reference that does not parse (``invalid``), instead of scoring everyone 0;
* correct its numeric comparison (:func:`_numeric_override`): exact numbers are compared with
  ``(a - b).evalf(chop=True)``, and chopping makes any two tiny numbers equal (``1/2^99`` vs ``1/2^98``,
  ``1/2004!`` vs ``1/2006!``, ``1.5\\times 10^{-30}`` vs ``2\\times 10^{-30}``); decimals are compared at 6
  decimal places, which makes ``0.0000001`` equal ``0.0000002``; and a decimal mantissa is a binary float
  that never equals the integer it writes (``6.02\\times 10^{23}`` vs ``602000000000000000000000``);
* normalise what its parser misreads (:func:`_normalise`): plain scientific notation (``1e-5`` is read
  as ``e - 5``), space-separated thousands (``10\\,000`` and ``10 000`` are read as ``10*0``), repeating decimals
  (``0.\\overline{3}``), numbers in text (AoPS's ``\\textbf{(073)}`` is read as a name) and stray full
  stops (``\\boxed{3.}``, ``-1./3``); and take GSM8K's ``#### 72`` answer line when nothing is boxed;
* not read an equation set to zero as the answer 0 (:func:`_states_a_condition`);
* compare an inequality answer with an interval reference (``x<3`` vs ``(-\\infty,3)``);
* give second chances for two conventions it misses (see :func:`_lenient`): multiple-choice letters in
  prose, and percentages against a bare number;
* cache the parsed reference per process: a GRPO group shares it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

from reward_service.grading.extract import last_boxed
from reward_service.grading.types import Verdict

__all__ = ["MathOptions", "grade_math", "warmup"]

logging.getLogger("math_verify").setLevel(logging.ERROR)  # it warns on every call with timeouts off

_SCI_E = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*[eE]\s*([+-]?\d+)\s*$")         # a whole answer "1.5e-7"
_THIN_THOUSANDS = re.compile(r"(?<=\d)(?:\\,|\\ |~)(?=\d{3}(?!\d))")              # 1\,000 → 1000
_SPACE_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?: \d{3})+(?![\d.])")           # 1 000 000, in an answer
_REPEATING = re.compile(r"(?<![\d.])(\d*)\.(\d*)\\overline\{(\d+)\}")               # 0.1\overline{6} → 1/6
_STRAY_STOP = re.compile(r"(?<=\d)\.(?!\d)")                                      # \boxed{3.}, -1./3
_TEXT_NUMBER = re.compile(r"\\(?:text|textbf|mathrm|mathbf)\{\s*\(?\s*([+-]?\d[\d.,]*)\s*\)?\s*\}")  # \textbf{(073)}
_HASH_ANSWER = re.compile(r"####\s*([^\n]+?)\s*$", re.MULTILINE)                      # GSM8K: "#### 72"
_PROSE = re.compile(r"(?<![\\\w])[A-Za-z]{2,}\s+[A-Za-z]{2,}\b")  # two words in a row: not a bare answer
_TEXT = re.compile(r"\\(?:text|mbox|mathrm)\{[^{}]*\}")
_PERCENT = re.compile(r"\\?%")
_LETTER = re.compile(r"^\s*(?:\\text(?:bf)?\{)?\s*\(?([A-E])\)?\s*\}?\s*$")
_LETTER_IN_PROSE = re.compile(r"\(([A-E])\)|\b(?i:answer|option|choice)\s*(?:is|:)?\s*\(?([A-E])\b")

# Corrections of math-verify's numeric comparison (see _numeric_override).
_CHOP_HIDES = 1e-10   # absolute differences below this may have been chopped to zero
_EXACT_GAP = 1e-30    # exact numbers that differ by more than this, relatively, are not equal
_FLOAT_GAP = 1e-3     # a decimal answer must also agree to 3 significant digits, at any magnitude
_FLOAT_NOISE = 1e-12  # a decimal this close, relatively, to the other number is equal (binary rounding)
BARE_ANSWER_CHARS = 120  # a short region with no recognisable answer is read as one bare LaTeX answer


@dataclass(frozen=True)
class MathOptions:
    float_rounding: int = 6      # decimals kept when an answer is a decimal (0.333333 vs 1/3)
    numeric_precision: int = 15  # digits of math-verify's numeric comparison of exact expressions
    strict: bool = True          # variables matter: x+1 is not y+1
    choice_letters: bool = True  # a reference letter A-E also matches "(B)" or "answer is B" in prose


@lru_cache(maxsize=1)
def _configs() -> tuple[list[Any], list[Any]]:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig
    from math_verify.parser import NormalizationConfig
    latex = LatexExtractionConfig(
        # malformed_operators: \frac12 and \sqrt2 are valid LaTeX for \frac{1}{2} and \sqrt{2}.
        normalization_config=NormalizationConfig(basic_latex=True, units=True, malformed_operators=True,
                                                 nits=False, boxed="all"),
        boxed_match_priority=0,            # a box in the region beats "final answer is" and other anchors
        try_extract_without_anchor=False,  # no "last math anywhere" guessing in free LaTeX
    )
    # ExprExtractionConfig keeps its default try_extract_without_anchor: an untagged CoT with no box and no
    # "answer is" ends with its answer as a plain number more often than not ("... so she has 18 eggs").
    # The reference is a bare answer: take it as a whole, LaTeX first, then a plain expression.
    gold = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    return gold, [latex, ExprExtractionConfig()]


def _repeating_to_fraction(m: re.Match[str]) -> str:
    whole, fixed, period = m.group(1) or "0", m.group(2), m.group(3)
    value = int(whole) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(period), (10 ** len(period) - 1) * 10 ** len(fixed))
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def _normalise_latex(text: str) -> str:
    """Rewrites that are safe anywhere in LaTeX (the whole region when nothing is boxed)."""
    text = _THIN_THOUSANDS.sub("", text)
    return _REPEATING.sub(_repeating_to_fraction, text)


def _normalise(answer: str) -> str:
    """An answer on its own (boxed content, bare region, reference): also plain-text notations."""
    m = _SCI_E.match(answer)
    if m:
        answer = f"{m.group(1)}\\times 10^{{{int(m.group(2))}}}"
    answer = _SPACE_THOUSANDS.sub(lambda g: g.group(0).replace(" ", ""), answer)
    answer = _TEXT_NUMBER.sub(r"\1", answer)
    return _STRAY_STOP.sub("", _normalise_latex(answer))


def _has_expression(parsed: list[Any] | tuple[Any, ...]) -> bool:
    return any(not isinstance(p, str) for p in parsed)


def _parse_answer(answer: str, config: list[Any]) -> list[Any]:
    from math_verify import parse
    return parse(f"\\boxed{{{_normalise(answer)}}}", extraction_config=config, parsing_timeout=None)


@lru_cache(maxsize=4096)
def _parse_reference(reference: str) -> tuple[Any, ...]:
    # Keyed on the reference alone: the options only change the comparison, not the parse.
    return tuple(_parse_answer(reference.strip(), _configs()[0]))


def _parse_prediction(region: str) -> tuple[list[Any], str | None]:
    """The parsed answer of a region and the text it came from (the last box when there is one)."""
    from math_verify import parse
    boxed = last_boxed(region)
    if boxed is not None:
        return _parse_answer(boxed, _configs()[1]), boxed
    marked = _HASH_ANSWER.findall(region)
    if marked:  # GSM8K's answer line, "#### 72", read as a bare answer
        return _parse_answer(marked[-1], _configs()[1]), marked[-1]
    parsed = parse(_normalise_latex(region), extraction_config=_configs()[1], parsing_timeout=None)
    bare = region.strip()
    if not parsed and 0 < len(bare) <= BARE_ANSWER_CHARS and not _PROSE.search(_TEXT.sub("", bare)):
        # "<answer>\frac{1}{3}</answer>": bare LaTeX with no delimiters is the answer itself.
        parsed = _parse_answer(bare, _configs()[1])
        parsed = parsed if _has_expression(parsed) else []
    return parsed, next((p for p in parsed if isinstance(p, str)), None)


def _numeric_override(a: Any, b: Any, same: bool, options: MathOptions) -> bool:
    """math-verify's verdict ``same`` on two parsed answers, corrected where it is wrong about numbers.

    It calls two numbers equal when chop (exact numbers) or rounding to ``float_rounding`` places
    (decimals) hides their difference: vetoed while they still differ in relative terms. It calls a decimal
    unequal to an exact number that it equals up to binary rounding (``6.02\\times 10^{23}`` vs
    ``602000000000000000000000``, compared as a float against an integer): accepted.
    """
    from sympy import Expr, Float
    if not (isinstance(a, Expr) and isinstance(b, Expr)) or a.free_symbols or b.free_symbols:
        return same
    decimal = a.has(Float) or b.has(Float)
    if not (same or decimal):
        return same
    va, vb = a.evalf(50), b.evalf(50)
    if not (va.is_number and vb.is_number and va.is_finite and vb.is_finite):
        return same
    diff, scale = abs(va - vb), max(abs(va), abs(vb))
    if not (diff.is_Number and scale.is_Number):
        return same
    if not same:
        return bool(diff <= _FLOAT_NOISE * scale)
    if decimal:
        return not (diff < 10.0 ** -options.float_rounding and diff > _FLOAT_GAP * scale)
    return not (diff < _CHOP_HIDES and diff > _EXACT_GAP * scale)


def _states_a_condition(pred: Any, gold: Any) -> bool:
    """``5x - 7y + 11z + 4 = 0`` against a number: an equation in unknowns set to zero is a condition (a
    plane, a polynomial's roots), not the value 0, although math-verify compares its right side."""
    from math_verify.grader import is_assignment_relation, is_equation, is_relation, take_last_relation
    if not is_equation(pred) or is_assignment_relation(pred) or is_relation(gold):
        return False
    last = take_last_relation(pred)
    return last.rhs == 0 and bool(last.lhs.free_symbols)


def _equal(gold: tuple[Any, ...], pred: list[Any], options: MathOptions) -> tuple[bool, str | None]:
    """Whether any parse of the answer equals any parse of the reference; and the last comparison error."""
    from math_verify import verify
    error = None
    for g in gold:
        for p in pred:
            if _states_a_condition(p, g):
                continue
            try:
                same = verify([g], [p], float_rounding=options.float_rounding,
                              numeric_precision=options.numeric_precision, strict=options.strict,
                              allow_set_relation_comp=True,  # x<3 vs (-\infty,3): compare as sets
                              timeout_seconds=None, raise_on_error=True)
                if _numeric_override(g, p, same, options):
                    return True, None
            except (MemoryError, RecursionError):
                raise  # out of resources is no verdict on the answer: the caller reports an error
            except Exception as exc:  # a malformed answer that sympy cannot compare is not equal
                error = f"{type(exc).__name__}: {str(exc)[:100]}"
    return False, error


def _lenient(region: str, reference: str, options: MathOptions) -> str | None:
    """Second chances for conventions math-verify misses; the answer that matched, or None.

    A multiple-choice reference ("B", "(B)", "\\text{(B)}") matches the last "(B)" or "answer is B" in the
    box, or in the prose when nothing is boxed; a percentage matches its number ("12.5\\%" vs "12.5"), as
    MATH-style references drop the sign.
    """
    letter = _LETTER.match(reference)
    if letter:
        if not options.choice_letters:
            return None
        boxed = last_boxed(region)
        found = _LETTER_IN_PROSE.findall(region if boxed is None else boxed)
        chosen = next((g for g in found[-1] if g), None) if found else None
        return f"({chosen})" if chosen == letter.group(1) else None
    if _PERCENT.search(reference) or _PERCENT.search(region):
        gold = _parse_reference(_PERCENT.sub("", reference))
        pred, extracted = _parse_prediction(_PERCENT.sub("", region))
        if pred and _has_expression(gold) and _equal(gold, pred, options)[0]:
            return extracted or str(pred[0])
    return None


def grade_math(region: str, reference: str, options: MathOptions = MathOptions()) -> Verdict:
    """1.0 if ``region``'s final answer equals ``reference``, 0.0 if not or absent; invalid reference → invalid."""
    gold = _parse_reference(reference)
    if not _has_expression(gold):
        return Verdict.invalid(f"unparseable reference {reference[:200]!r}", reference=reference[:200])
    shown = str(gold[0])[:200]
    pred, extracted = _parse_prediction(region)
    matched, error = _equal(gold, pred, options) if pred else (False, None)
    if matched:
        return Verdict.ok(1.0, extracted=(extracted or str(pred[0]))[:200], reference=shown, matched=True)
    second = _lenient(region, reference, options)
    if second is not None:
        return Verdict.ok(1.0, extracted=second[:200], reference=shown, matched=True)
    if not pred:
        return Verdict.ok(0.0, reason="no answer found", extracted=None, reference=shown, matched=False)
    details: dict[str, Any] = {"extracted": (extracted or str(pred[0]))[:200], "reference": shown,
                               "matched": False}
    if error:
        details["comparison_error"] = error
        reason = f"not equivalent (comparison failed: {error})"
    else:
        reason = "not equivalent" if _has_expression(pred) else "unparseable answer"
    return Verdict.ok(0.0, reason=reason, **details)


def warmup() -> None:
    """Import math-verify, sympy and the ANTLR parser, and run gradings that touch each comparison path."""
    grade_math("\\boxed{\\frac{1}{2}}", "0.5")
    grade_math("\\boxed{x<3}", "(-\\infty,3)")
    grade_math("\\boxed{\\begin{pmatrix}1\\\\2\\end{pmatrix}}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}")
