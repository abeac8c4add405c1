"""Math accuracy: is the final answer symbolically equal to the reference? Built on math-verify.

The answer is one whole span of the final-answer region (:mod:`answer_span`: the last box, else the last
math span, a bare answer, an "answer is" statement, the last expression in prose), parsed as a whole after
notation-only rewrites (:mod:`math_forms`). A span that does not parse as a whole is ``unparseable answer``
— never a number read out of it. Around math-verify we also:

* turn off its ``signal.alarm`` timeouts (main thread only, and a timeout reads as ``False``): the caller
  kills the grader process at its limit, so a hang is ``status: timeout``. A comparison that crashes on two
  well-formed expressions is ``status: error``, not a silent 0; running out of resources propagates;
* refuse a reference that does not parse (``invalid``) instead of scoring everyone 0; a reference holding a
  whole solution is read by its last box;
* correct its numeric comparison (:func:`_numeric_override`): chopping makes tiny exact numbers equal
  (``1/2^99`` vs ``1/2^98``), rounding to 6 places makes ``0.0000001`` equal ``0.0000002``, and a decimal
  mantissa never equals the integer it writes (``6.02\\times 10^{23}``);
* read the imaginary unit where an answer is a complex number (``1+2i`` parses ``i`` as a variable);
* compare clock times as times (``20:34`` = ``20:34:00``; math-verify reads ratios, ``12:00`` = 12/0);
* not read an equation set to zero as the answer 0 (:func:`_states_a_condition`);
* not read a chain of equalities whose sides differ (``x = 5 = 4``) as its last side: accuracy 0, reason
  ``unequal sides`` (:func:`math_forms.unequal_sides`);
* compare boxes written together (``\\boxed{1}, \\boxed{2}``) as one set when the reference has several
  values, else only the last box: boxing guesses never earns what one wrong guess would not;
* give second chances for multiple-choice letters in prose and percentages against a bare number;
* drop units after a value on either side (``5\\text{ cm}`` against ``5``, both ways), never converting them
  (:func:`math_forms.strip_units`);
* cache the parsed reference per process: a GRPO group shares it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reward_service.grading import budget, latex_parse, math_forms
from reward_service.grading.answer_span import AnswerSpan, boxes, find_answer, reads_as_prose
from reward_service.grading.math_compare import equal, too_large
from reward_service.grading.types import Grade, Reason

__all__ = ["MathOptions", "grade_math", "warmup"]

logging.getLogger("math_verify").setLevel(logging.ERROR)  # it warns on every call with timeouts off

MAX_ANSWER_CHARS = 1000  # the longest answer in MATH-500 has 53; matrices and lists a few hundred
MAX_NESTING = 40         # brackets inside brackets
_PERCENT = re.compile(r"\\?%")
_DECIMAL_COMMA = re.compile(r"^-?\d+,(?:\d{1,2}|\d{4,})$")
_INTEGER = re.compile(r"^-?(?:[1-9]\d{0,2}(?:,\d{3})+|\d+)$")  # 0,111 is a decimal comma to latex2sympy
_FRACTION = re.compile(r"^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$")
_CONJUGATE = re.compile(r"^\\(?:overline|bar)\{(.*[A-Za-z].*)\}$")
_CLOCK_LIKE = re.compile(r"^\d{1,2}:\d{2}(?!\d)\s*[^\s\d,]")
_LETTER = re.compile(r"^\s*(?:\\text(?:bf)?\{)?\s*\(?([A-E])\)?\s*\}?\s*$")
_LETTER_OPTION = re.compile(r"^\s*\(([A-E])\)\s+\S|^\s*([A-E])[.)]?\s+[A-Z][a-z]")  # "(D) Alina", "C Cecile"
_LETTER_IN_PROSE = re.compile(r"\(([A-E])\)|\b(?i:answer|option|choice)\s*(?:is|:)?\s*\(?([A-E])\b")
_LEAD_LETTER = re.compile(r"^\s*\(?([A-E])\)?(?:[.:)。，,]|\s*$|(?=[^\x00-\x7f]))")  # "D. it can't be A", "B。不是 A"
_LAST_LETTER = re.compile(r"(?<![\w'’])\(?([A-E])\)?[.!。]?\s*$")                   # "… I think it's B"


@dataclass(frozen=True)
class MathOptions:
    float_rounding: int = 6      # decimals kept when an answer is a decimal (0.333333 vs 1/3)
    numeric_precision: int = 15  # digits of math-verify's numeric comparison of exact expressions
    strict: bool = True          # variables matter: x+1 is not y+1
    choice_letters: bool = True  # a reference letter A-E also matches "(B)" or "answer is B" in prose


@dataclass(frozen=True)
class Reference:
    text: str                    # the span graded against (a solution's last box, or the whole reference)
    parsed: tuple[Any, ...]      # math-verify's parse: (expression, normalised string), or () if none
    clock: int | None            # seconds after midnight when the reference is a clock time
    constant: bool               # a number or constant expression: units after an answer's value are dropped
    number: bool                 # a plain number: "1000,99" in an answer has a decimal comma
    several: bool                # a set, tuple list or several values: boxes written together count


@lru_cache(maxsize=1)
def _latex_config() -> list[Any]:
    from math_verify import LatexExtractionConfig
    from math_verify.parser import NormalizationConfig
    # malformed_operators: \frac12 and \sqrt2 are valid LaTeX for \frac{1}{2} and \sqrt{2}.
    return [LatexExtractionConfig(
        normalization_config=NormalizationConfig(basic_latex=True, units=True, malformed_operators=True,
                                                 nits=False, boxed="all"),
        boxed_match_priority=0, try_extract_without_anchor=False)]


def _is_expression(p: Any) -> bool:
    from sympy import nan, zoo
    return not isinstance(p, str) and not (getattr(p, "has", None) and p.has(zoo, nan))


def _evaluated(expr: Any) -> Any:
    """A product or sum of matrices as the matrix it is (math-verify compares the unevaluated form)."""
    from sympy import MatAdd, MatMul
    return expr.doit() if isinstance(expr, (MatMul, MatAdd)) else expr


def parse_whole(text: str) -> list[Any]:
    """math-verify's parse of ``text`` as one answer, ``[expression, normalised text]``; [] when it does not
    parse as a whole. Cached per process: a GRPO group writes the same answer many times."""
    return list(_parse_whole(text))


@lru_cache(maxsize=8192)
def _parse_whole(text: str) -> tuple[Any, ...]:
    from math_verify import parse
    from sympy import I, Integer, Rational
    from sympy import conjugate as sympy_conjugate
    if not text.strip():
        return ()
    if _INTEGER.match(text):  # the common cases, without the LaTeX parser (~1-3 ms each)
        return Integer(text.replace(",", "")), text
    fraction = _FRACTION.match(text)
    if fraction and int(fraction.group(3)) != 0:
        return Rational(int(fraction.group(1) + fraction.group(2)), int(fraction.group(3))), text
    conjugate = _CONJUGATE.match(text)
    if conjugate:  # \overline{3+4i}: latex2sympy reads a bar as part of a name
        inner = _parse_whole(conjugate.group(1))
        if not inner:
            return ()
        unit = {s: I for s in inner[0].free_symbols if getattr(s, "name", "") == "i"}
        return sympy_conjugate(inner[0].subs(unit)), text
    with latex_parse.sll():
        parsed = parse(f"\\boxed{{{text}}}", extraction_config=_latex_config(), parsing_timeout=None)
    if not (parsed and _is_expression(parsed[0])):  # SLL could not decide, or it does not parse at all
        parsed = parse(f"\\boxed{{{text}}}", extraction_config=_latex_config(), parsing_timeout=None)
    if parsed and _is_expression(parsed[0]):
        return _evaluated(parsed[0]), *parsed[1:]
    both = math_forms.expand_plus_minus(text) if "\\pm" in text else None
    if both is not None:
        return _parse_whole(both)
    number = math_forms.plain_number(text)
    return (Rational(number.numerator, number.denominator), text) if number is not None else ()


def _several(parsed: tuple[Any, ...] | list[Any]) -> bool:
    from sympy import FiniteSet
    return bool(parsed) and isinstance(parsed[0], FiniteSet) and len(parsed[0].args) > 1


@lru_cache(maxsize=4096)
def _reference(reference: str) -> Reference:
    from sympy import Basic
    found = boxes(reference)
    group = find_answer(reference).group if found else ()  # type: ignore[union-attr]
    text = ", ".join(group) if group else found[-1][2] if found else reference
    text = math_forms.clean(text)
    clock = math_forms.clock_seconds(text)
    if clock is None and _CLOCK_LIKE.match(text):  # "4:30p..": a damaged time, not the ratio 4/(30p)
        return Reference(text, (), None, False, False, False)
    parsed = tuple(parse_whole(math_forms.rewrite(math_forms.strip_units(text))))  # units as the answer's
    constant = bool(parsed) and isinstance(parsed[0], Basic) and not parsed[0].free_symbols
    number = constant and getattr(parsed[0], "is_Number", False)
    return Reference(text, parsed, clock, constant, number, _several(parsed))


def _answer_text(span: AnswerSpan, ref: Reference) -> str:
    """The answer as graded: the span cleaned (units dropped against a constant), or the group's parts."""
    if ref.several and span.group:
        return ", ".join(_part(part, ref) for part in span.group)
    text = math_forms.clean(span.text)
    if ref.constant:
        text = math_forms.strip_units(text, prose=span.prose)
    if ref.number and _DECIMAL_COMMA.match(text):  # "1000,99" against a number: no thousands group, a decimal comma
        text = text.replace(",", ".")
    return text


def _part(part: str, ref: Reference) -> str:
    """One of several boxed values, cleaned (its units dropped against a constant reference)."""
    text = math_forms.clean(part)
    return math_forms.strip_units(text) if ref.constant else text


def _parse_answer(span: AnswerSpan, ref: Reference, text: str) -> list[Any]:
    """The parse of the graded text; the parts of a group as one set (each part parsed on its own)."""
    from sympy import FiniteSet
    if ref.several and span.group:
        parts = [parse_whole(math_forms.rewrite(_part(part, ref))) for part in span.group]
        if all(parts):
            return [FiniteSet(*(a for p in parts for a in (p[0].args if isinstance(p[0], FiniteSet) else (p[0],))))]
    return parse_whole(math_forms.rewrite(text))


def _reference_letter(reference: str) -> str | None:
    m = _LETTER.match(reference) or _LETTER_OPTION.match(reference)
    if m is not None:
        return next(g for g in m.groups() if g)
    if reads_as_prose(reference):  # "Alina, and the answer is (C) Cecile"
        found = _LETTER_IN_PROSE.findall(reference)
        return next((g for g in found[-1] if g), None) if found else None
    return None


def _letter(region: str, span: AnswerSpan | None, reference: str) -> str | None:
    """The option letter an answer chose, when the reference is a multiple-choice letter it matches."""
    wanted = _reference_letter(reference)
    if wanted is None:
        return None
    chosen = _LETTER.match(span.text) if span is not None else None
    if chosen is not None:
        letter: str | None = chosen.group(1)
    else:
        found = _LETTER_IN_PROSE.findall(span.text if span is not None and span.source == "boxed" else region)
        edge = _LEAD_LETTER.match(region) or _LAST_LETTER.search(region)
        letter = next((g for g in found[-1] if g), None) if found else edge.group(1) if edge else None
    return f"({letter})" if letter == wanted else None


def _grade_clock(span: AnswerSpan, ref: Reference, shown: dict[str, Any]) -> Grade:
    answer = math_forms.clock_seconds(math_forms.clean(span.text))
    if answer is None:
        return Grade.ok(0.0, Reason.wrong_answer, "not a clock time", **shown, matched=False)
    if answer != ref.clock:
        return Grade.ok(0.0, Reason.wrong_answer, "not equivalent", **shown, matched=False)
    return Grade.ok(1.0, **shown, matched=True)


def grade_math(region: str, reference: str, options: MathOptions = MathOptions()) -> Grade:
    """1.0 if ``region``'s answer equals ``reference``, 0.0 if not or absent; invalid reference → invalid;
    a comparison that crashes on two well-formed expressions → error."""
    ref = _reference(reference)
    if not ref.parsed and ref.clock is None:
        return Grade.invalid(Reason.unparseable_reference, f"unparseable reference {reference[:200]!r}",
                             reference=reference[:200])
    _evaluate_reference(ref)  # under the item's limit: a reference we cannot evaluate is a timeout
    budget.answer_phase(lambda s: Grade.ok(0.0, Reason.over_budget, f"answer not evaluated within its {s:g} s "
                                           "budget", matched=False))  # from here the time is the answer's
    span = find_answer(region)
    shown_ref = (str(ref.parsed[0]) if ref.parsed and ref.clock is None else ref.text)[:200]
    letter = _letter(region, span, reference) if options.choice_letters else None
    if letter is not None:
        return Grade.ok(1.0, extracted=letter, source=span.source if span else "prose", reference=shown_ref,
                          matched=True)
    if span is None:
        return Grade.ok(0.0, Reason.no_answer, "no answer found", extracted=None, reference=shown_ref,
                        matched=False)
    shown = {"extracted": span.text[:200], "source": span.source, "reference": shown_ref}
    if ref.clock is not None:
        return _grade_clock(span, ref, shown)
    graded = _answer_text(span, ref)
    shown["extracted"] = graded[:200]
    too_big = _too_big(graded)
    if too_big:  # parsing it would take longer than the item's limit: a 0, not a timeout (null reward)
        return Grade.ok(0.0, Reason.answer_too_large, f"unparseable answer ({too_big})", **shown, matched=False)
    if graded == ref.text:  # written as the reference is: equal, and no parse needed
        return Grade.ok(1.0, **shown, matched=True)
    pred = _parse_answer(span, ref, graded)
    if not pred:
        return Grade.ok(0.0, Reason.unparseable_answer, "unparseable answer", **shown, matched=False)
    refused = _refused(pred, ref, graded)
    if refused:
        return Grade.ok(0.0, *refused, **shown, matched=False)
    matched, error = equal(ref.parsed, pred, options)
    if not matched and (_PERCENT.search(reference) or _PERCENT.search(graded)):
        matched = _percent_equal(reference, graded, options)
    if matched:
        return Grade.ok(1.0, **shown, matched=True)
    if error:
        return Grade.error(Reason.comparison_failed, f"comparison failed: {error}", **shown, matched=False)
    return Grade.ok(0.0, Reason.wrong_answer, "not equivalent", **shown, matched=False)


def _refused(pred: list[Any], ref: Reference, graded: str) -> tuple[Reason, str] | None:
    """Why a parsed answer is 0 without a comparison: too large to evaluate (a huge reference is compared as
    before, numerically), or a chain of equalities whose sides differ (``x = 5 = 4``: no answer, though
    math-verify would grade its last side). None when it is compared."""
    if too_large(pred) and not too_large(ref.parsed):
        return Reason.answer_too_large, "unparseable answer (too large to evaluate)"
    if math_forms.unequal_sides(graded, lambda side: parse_whole(math_forms.rewrite(side))):
        return Reason.wrong_answer, "unequal sides"
    return None


def _too_big(text: str) -> str | None:
    """Why an answer is too big to parse (no real answer is), or None. A policy must not be able to turn
    its 0 into a timeout, whose reward is null, by writing an answer that takes sympy minutes."""
    if len(text) > MAX_ANSWER_CHARS:
        return f"longer than {MAX_ANSWER_CHARS} characters"
    depth = deepest = 0
    for c in text:
        if c in "({[":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")}]":
            depth -= 1
    return f"nested deeper than {MAX_NESTING}" if deepest > MAX_NESTING else None


def _percent_equal(reference: str, graded: str, options: MathOptions) -> bool:
    """``12.5\\%`` against ``12.5``: MATH-style references drop the sign."""
    gold = _reference(_PERCENT.sub("", reference))
    pred = parse_whole(math_forms.rewrite(_PERCENT.sub("", graded)))
    return bool(gold.parsed and pred) and equal(gold.parsed, pred, options)[0]


_EVALUATED: set[str] = set()  # references evaluated in this process (a GRPO group shares one)


def _evaluate_reference(ref: Reference) -> None:
    """Evaluate the reference (at a point, for unknowns) once per process, before the answer's time budget
    starts: the comparison evaluates it too, and a reference that takes sympy hours (``9^{9^{9^{9}}}``) is our
    failure, a timeout, never the answer's 0. What fails to evaluate is left to the comparison."""
    from sympy import Expr
    if ref.text in _EVALUATED or not ref.parsed:
        return
    expr = ref.parsed[0]
    parts = [expr] if isinstance(expr, Expr) else [a for a in getattr(expr, "args", ()) if isinstance(a, Expr)]
    for part in parts:
        try:
            part.evalf(30, subs=dict.fromkeys(part.free_symbols, 0.6180339887))
        except (MemoryError, RecursionError):
            raise
        except Exception:  # noqa: BLE001 - not ours to judge here: the comparison decides
            pass
    if len(_EVALUATED) >= 4096:
        _EVALUATED.clear()
    _EVALUATED.add(ref.text)


def warmup() -> None:
    """Import math-verify, sympy and the ANTLR parser, and run gradings that touch each comparison path."""
    latex_parse.warm()
    grade_math("\\boxed{\\frac{1}{2}}", "0.5")
    grade_math("\\boxed{x<3}", "(-\\infty,3)")
    grade_math("\\boxed{\\begin{pmatrix}1\\\\2\\end{pmatrix}}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}")
    grade_math("$i(2-i)$", "1+2i")
