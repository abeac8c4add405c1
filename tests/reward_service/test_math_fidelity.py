"""Four classes of equivalence the math grader used to miss (issue 21, "the rest of math fidelity"): a
reference with a unit against a bare number, trigonometry of an expression in degrees, function notation
against an equation, and powers with decimal exponents. Each class is graded in several notations and in
every answer form below, with near misses that must stay wrong.
"""

from __future__ import annotations

import pytest

from reward_service.grading.math import grade_math

# Where the answer stands in a completion: graded the same in each.
FORMS = ("\\boxed{@}", "$@$", "The answer is $@$.", "\\[ @ \\]")


def _scores(answer: str, reference: str) -> set[float | None]:
    return {grade_math(form.replace("@", answer), reference).score for form in FORMS}


def _right(cases: list[tuple[str, str]], both_ways: bool = True) -> list[tuple[str, str]]:
    return cases + ([(r, a) for a, r in cases] if both_ways else [])


# --- 1. a unit in the reference, a bare number in the answer ------------------------------------------------
UNIT_RIGHT = [
    ("3", "3 dollars"), ("5", "5 {\\rm cm}"), ("5", "5\\;{\\rm cm}"), ("5", "\\text{5 cm}"), ("5", "5 \\operatorname{cm}"),
    ("10", "10 \\frac{\\text{m}}{\\text{s}}"), ("90", "90 ^ \\circ"), ("5, 6", "5 \\text{ cm}, 6\\text{ cm}"),
    # the reverse direction, made symmetric: the same forms in the answer against a bare reference
    ("5 {\\rm cm}", "5"), ("5 \\operatorname{cm}", "5"), ("5 \\text{ cm}, 6\\text{ cm}", "5, 6"),
]
# Right before this change too (math-verify drops these units, or the reverse direction's unit stripping):
# kept so that both directions stay alike.
UNIT_ALREADY = [("12", "12 apples"), ("2.5", "2.5 meters"), ("\\frac{3}{2}", "\\frac32 \\text{ hours}"),
                ("3 dollars", "3"), ("5\\text{ cm}", "5"), ("10\\,\\text{m/s}", "10"), ("45^\\circ", "45"),
                ("3 dollars", "3\\text{ dollars}"), ("5", "5\\text{ cm}"), ("45", "45^\\circ"), ("10", "10\\,\\text{m/s}")]
UNIT_WRONG = [
    ("6", "5 dollars"), ("4", "\\text{5 cm}"), ("6", "5 {\\rm cm}"), ("91", "90 ^ \\circ"),
    ("5000", "5 km"), ("5000", "5\\text{ km}"),  # units are dropped, not converted (see math_forms.strip_units)
    ("5, 7", "5 \\text{ cm}, 6\\text{ cm}"), ("5", "5 \\text{ cm}, 6\\text{ cm}"), ("5x", "5 \\text{ cm}"),
    ("6 {\\rm cm}", "5"),
]


@pytest.mark.parametrize(("answer", "reference"), UNIT_RIGHT + UNIT_ALREADY)
def test_a_unit_on_either_side_leaves_the_number(answer, reference):
    assert _scores(answer, reference) == {1.0}


@pytest.mark.parametrize(("answer", "reference"), UNIT_WRONG)
def test_a_unit_does_not_make_another_number_right(answer, reference):
    assert _scores(answer, reference) == {0.0}


# --- 2. trigonometry of an expression in degrees -------------------------------------------------------------
TRIG_RIGHT = _right([
    ("\\cos x", "\\sin(90^\\circ - x)"), ("-\\cos\\theta", "\\cos(180^\\circ - \\theta)"),
    ("\\cos y", "\\sin\\left(90^{\\circ}-y\\right)"), ("-\\sin x", "\\cos(90^\\circ + x)"),
    ("\\frac{\\sqrt{3}}{2}", "\\sin(2 \\cdot 30^\\circ)"), ("\\cos^2 x", "\\sin^2(90^\\circ - x)"),
    ("-\\cos\\alpha", "\\cos{(180^{\\circ} - \\alpha)}"), ("\\sin x", "\\cos\\left(x - 90^\\circ\\right)"),
])
TRIG_ALREADY = [("1", "\\tan(45^\\circ)"), ("\\frac12", "\\sin (30^{\\circ})")]
TRIG_WRONG = [
    ("\\sin x", "\\sin(90^\\circ - x)"), ("\\cos\\theta", "\\cos(180^\\circ - \\theta)"),
    ("\\cos x", "\\sin(90 - x)"),  # no degree sign: 90 radians
    ("\\cos y", "\\sin(90^\\circ - x)"), ("\\frac12", "\\sin(2 \\cdot 30^\\circ)"), ("0", "\\tan(45^\\circ)"),
]


@pytest.mark.parametrize(("answer", "reference"), TRIG_RIGHT + TRIG_ALREADY)
def test_degrees_inside_a_trigonometric_argument_are_radians(answer, reference):
    assert _scores(answer, reference) == {1.0}


@pytest.mark.parametrize(("answer", "reference"), TRIG_WRONG)
def test_degrees_do_not_make_another_expression_right(answer, reference):
    assert _scores(answer, reference) == {0.0}


# --- 3. function notation against an equation ----------------------------------------------------------------
FUNCTION_RIGHT = _right([
    ("y = 2x + 3", "f(x) = 2x + 3"), ("y=x^2", "f(x)=x^2"), ("y = t^2 + 1", "g(t) = t^2+1"),
    ("y=3x-1", "h\\left(x\\right) = 3x - 1"), ("p(x) = x^3", "f(x) = x^3"), ("g(t)=t^2", "f(x)=x^2"),
    ("2x + 3 = y", "f(x) = 2x + 3"),
])
FUNCTION_WRONG = [
    ("y = 2x+4", "f(x) = 2x+3"), ("f(x) = 2x+3", "y = 2x+4"), ("g(x) = 2x+4", "f(x) = 2x+3"),
    ("x = 2x + 3", "f(x) = 2x + 3"),  # the unknown on both sides: an equation, not a definition
    ("y = 2y + 3", "f(y) = 2y + 3"), ("f(x) = f(x-1) + 2", "y = f(x-1) + 2"),
    ("x = 3", "y = 3"),  # no function notation: variables still matter
    ("f(x) = x^2", "f(x) = x^3"), ("g(t) = t^3", "f(x) = x^2"),
]


@pytest.mark.parametrize(("answer", "reference"), FUNCTION_RIGHT)
def test_a_function_definition_equals_its_equation(answer, reference):
    assert _scores(answer, reference) == {1.0}


@pytest.mark.parametrize(("answer", "reference"), FUNCTION_WRONG)
def test_a_function_definition_with_another_rule_stays_wrong(answer, reference):
    assert _scores(answer, reference) == {0.0}


# --- 4. powers with decimal exponents (unknowns taken positive) ------------------------------------------------
POWER_RIGHT = _right([
    ("x^2", "x^{1.5} \\cdot x^{0.5}"), ("\\sqrt{x}", "(x^2)^{0.25}"),
    ("x", "(x^{0.5})^{2}"), ("\\sqrt[4]{x^3}", "x^{0.75}"), ("y^{3}", "y^{2.5} \\cdot \\sqrt{y}"),
])
POWER_ALREADY = [("\\sqrt{x}", "x^{0.5}"), ("2\\sqrt{2}", "2^{1.5}"), ("a^2\\sqrt{a}", "a^{2.5}"), ("a^{2.5}", "a^2\\sqrt{a}")]
POWER_WRONG = [
    ("x^3", "x^{1.5} \\cdot x^{0.5}"), ("x^{0.6}", "x^{0.5}"), ("\\sqrt[3]{x}", "x^{0.33}"),
    ("x", "(x^2)^{0.25}"), ("a^{2}\\sqrt{a}", "a^{2.25}"),
]


@pytest.mark.parametrize(("answer", "reference"), POWER_RIGHT + POWER_ALREADY)
def test_decimal_exponents_are_the_fractions_they_write(answer, reference):
    assert _scores(answer, reference) == {1.0}


@pytest.mark.parametrize(("answer", "reference"), POWER_WRONG)
def test_decimal_exponents_do_not_make_another_power_right(answer, reference):
    assert _scores(answer, reference) == {0.0}
