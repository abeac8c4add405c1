"""The gaps math-verify leaves, one test each (the upstream issue named where there is one), and the
notation-only rewrites that close them."""

from __future__ import annotations

import math_verify
import pytest

from reward_service.grading import math_forms
from reward_service.grading.math import grade_math


def _mv(gold: str, pred: str) -> bool:
    """math-verify alone, as a trainer would call it."""
    return math_verify.verify(math_verify.parse(f"${gold}$", parsing_timeout=None),
                              math_verify.parse(f"${pred}$", parsing_timeout=None), timeout_seconds=None)


def _score(answer: str, reference: str) -> float | None:
    """The score of a final-answer region holding only ``answer``."""
    return grade_math(answer, reference).score


def test_a_number_inside_an_expression_is_never_the_answer():
    # Math-Verify issue #41: "$4\sqrt(2)$" verified equal to 4. Our own bug was the same shape: the plain
    # expression extractor took a number out of 4\sqrt{2}, 2^{8} or x \le 5 when nothing was boxed.
    for answer, wrong, right in [("4\\sqrt{2}", "4", "\\sqrt{32}"), ("2^{8}", "2", "256"), ("x \\le 5", "5", "5 \\ge x"),
                                 ("7!", "7", "5040"), ("4\\pi", "4", "4\\pi"), ("5\\sqrt{3}", "5", "\\sqrt{75}")]:
        for form in (answer, f"${answer}$", f"\\[{answer}\\]"):
            assert _score(form, wrong) == 0.0, (form, wrong)
            assert _score(form, right) == 1.0, (form, right)


def test_imaginary_unit_when_the_answer_is_complex():
    assert not _mv("1+2i", "i(2-i)")  # i is a variable in 1+2i but the unit in i(2-i)
    assert _score("i(2-i)", "1+2i") == 1.0 and _score("i^2", "-1") == 1.0 and _score("(1+i)^2", "2i") == 1.0
    assert _score("\\frac{1}{i}", "-i") == 1.0 and _score("\\mathrm{i}", "i") == 1.0
    assert _score("i(2-i)", "1-2i") == 0.0 and _score("i^2", "1") == 0.0
    assert _score("x+i", "i+x") == 1.0  # a formula in other unknowns is compared as it is
    assert _score("i^2 + x", "x - 1") == 0.0  # ...and i there stays a variable


def test_degrees_inside_trigonometric_functions():
    assert not _mv("\\frac{\\sqrt{2}}{2}", "\\sin 45^\\circ")  # read as sin(45 radians)
    assert _score("\\sin 45^\\circ", "\\frac{\\sqrt2}{2}") == 1.0
    assert _score("\\cos(60^{\\circ})", "\\frac12") == 1.0 and _score("\\tan 45°", "1") == 1.0
    assert _score("2\\sin^2 30^\\circ", "\\frac12") == 1.0
    assert _score("\\sin 30^\\circ", "\\frac{\\sqrt3}{2}") == 0.0
    assert _score("30^\\circ", "30") == 1.0  # an angle alone keeps its number
    assert math_forms.rewrite("\\sin 45^\\circ") == "\\sin\\left(45\\cdot\\frac{\\pi}{180}\\right)"


def test_mixed_numbers():
    # Math-Verify issue #34 (open), PR #81: "1 1/4" parses as 1, so "2 2/3" can match a gold answer of 2.
    assert math_verify.parse("1 1/2", parsing_timeout=None)[0] == 1
    for answer in ("1\\frac{1}{2}", "1 1/2", "1\\frac12", "1\\dfrac{1}{2}"):
        assert _score(answer, "\\frac32") == 1.0, answer
        assert _score(answer, "1") == 0.0 and _score(answer, "\\frac12") == 0.0, answer
    assert _score("-2\\frac{1}{4}", "-\\frac94") == 1.0
    assert math_forms.rewrite("2\\frac{5}{4}") == "2\\frac{5}{4}"  # improper: not a mixed number
    assert math_forms.rewrite("x^2\\frac{1}{2}") == "x^2\\frac{1}{2}"  # an exponent is no whole part


def test_upright_e_is_eulers_number():
    # Math-Verify issue #14 (yujianll): 1 - 1/\mathrm{e} verified equal to 1 + 1/\mathrm{e}.
    assert _score("1 - \\frac{1}{\\mathrm{e}}", "1 - e^{-1}") == 1.0
    assert _score("1 + \\frac{1}{\\mathrm{e}}", "1 - \\frac{1}{\\mathrm{e}}") == 0.0
    assert _score("\\mathrm{e}^2", "e^2") == 1.0 and _score("\\text{e}", "e") == 1.0


def test_clock_times_are_times_not_ratios():
    # Math-Verify issue #14: 12:00 verified equal to 1:00 (both read as ratios; 12:00 is 12/0).
    assert _score("20:34", "20:34:00") == 1.0 and _score("8:34 p.m.", "20:34") == 1.0
    assert _score("12:00", "12:00") == 1.0 and _score("12:30 \\text{ a.m.}", "0:30") == 1.0
    assert _score("1:00", "12:00") == 0.0 and _score("1", "12:00") == 0.0 and _score("\\frac{3}{5}", "12:20") == 0.0
    assert _score("3:4", "\\frac34") == 1.0  # a ratio stays a ratio
    assert grade_math("\\boxed{4:30}", "4:30p..").reason.startswith("unparseable reference")  # a damaged time
    assert math_forms.clock_seconds("13:00 p.m.") is None and math_forms.clock_seconds("9:75") is None


def test_a_unit_after_a_number_against_a_bare_number():
    for answer in ("10 weeks", "10 \\text{ cm}^2", "10\\,\\text{m/s}", "\\$10", "10 \\mbox{ dollars}", "10 km/h"):
        assert _score(answer, "10") == 1.0, answer
        assert _score(answer, "11") == 0.0, answer
    assert _score("10x", "10") == 0.0 and _score("10 x", "10") == 0.0  # a variable, not a unit
    assert _score("5 xy", "5") == 0.0 and _score("5xy", "5") == 0.0 and _score("5 cm", "5") == 1.0
    assert grade_math("so the answer is 5x", "5").score == 0.0  # a variable in prose stays one
    assert grade_math("So she has 18 eggs.", "18").score == 1.0
    assert grade_math("Donc, il a déjà 79 g de cire.", "79").score == 1.0  # a unit letter in prose


def test_stray_spacing_and_trailing_backslashes_in_a_reference():
    # NeMo-Skills' suite has the reference "185\": as a boxed answer math-verify keeps it as a string.
    assert math_verify.parse("\\boxed{185\\}", parsing_timeout=None) == ["185\\"]
    for reference in ("5\\", "5\\!", "5\\\\", "\\;5", "5\\,"):
        assert _score("5", reference) == 1.0, reference
    assert _score("1000", "1\\;000") == 1.0 and _score("11111111100", "11,\\! 111,\\! 111,\\! 100") == 1.0
    assert _score("14916", "14 {, }916") == 1.0


def test_decimal_comma_only_where_it_cannot_be_a_thousands_group():
    assert _score("1000,99", "1000.99") == 1.0 and _score("2,5", "2.5") == 1.0
    assert _score("2,500", "2500") == 1.0 and _score("2,500", "2.5") == 0.0
    assert _score("1, 2", "1.2") == 0.0  # with a space it is a list


def test_plus_minus_inside_an_expression_is_both_values():
    both = "\\frac{-1 + \\sqrt{13}}{4}, \\frac{-1 - \\sqrt{13}}{4}"
    assert _score("\\frac{-1 \\pm \\sqrt{13}}{4}", both) == 1.0
    assert _score("x = \\frac{1}{2}, x = \\frac{-1 \\pm \\sqrt{13}}{4}", f"\\frac12, {both}") == 1.0
    assert _score("\\frac{-1 + \\sqrt{13}}{4}", "\\frac{-1 \\pm \\sqrt{13}}{4}") == 0.0
    assert math_forms.expand_plus_minus("1, 2") is None


@pytest.mark.parametrize(("text", "cleaned"), [
    ("$5$", "5"), ("\\(x\\)", "x"), ("**25%**", "25%"), ("0.3333$", "0.3333"), ("3.", "3"),
    ("\\$18.90", "18.90"), ("10{,}000", "10000"), ("1 000 000", "1000000"), ("−5", "-5"), ("√2", "\\sqrt{2}"),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}"),  # a row break survives
    ("$21,16$ or $11$", "21,16 or 11"), ("x \\quad  y", "x y"),
])
def test_clean_changes_notation_only(text, cleaned):
    assert math_forms.clean(text) == cleaned


def test_connectives_make_lists():
    assert math_forms.rewrite("19, 46, \\text{ and } 82") == "19, 46, 82"
    assert math_forms.rewrite("p=5,q=2 \\text{ and } p=7,q=2") == "p=5,q=2; p=7,q=2"
    assert math_forms.rewrite("\\text{Monday}") == "\\text{Monday}"


# -- chains of equalities (issue 17): math-verify grades the last side, so "x = 5 = 4" counted for 4 ---------

CHAINS_THAT_LIE = ["x = 5 = 4", "5 = 4", "x=4=5", "2+2 = 4 = 5", "x = 2+2 = 5", "f(2) = 5 = 4", "x \\le 5 = 4",
                   "x = \\frac{1}{2} = 0.4", "a_1 = 7 = 4", "x = 500 = 501.0"]


@pytest.mark.parametrize("chain", CHAINS_THAT_LIE)
def test_a_chain_of_equalities_whose_sides_differ_is_no_answer(chain):
    last = chain.rsplit("=", 1)[1].strip()
    first = chain.split("=")[1].strip() if chain.count("=") > 1 else chain.split("=")[0].strip()
    for region in (f"\\boxed{{{chain}}}", f"${chain}$", f"The answer is ${chain}$.", f"The answer is {chain}.",
                   chain, f"\\[{chain}\\]", f"so the final answer is \\boxed{{{chain}}}"):
        for reference in {last, first}:
            verdict = grade_math(region, reference)
            assert verdict.score == 0.0 and verdict.reason == "unequal sides", (region, reference, verdict)
            assert verdict.details["matched"] is False


@pytest.mark.parametrize(("chain", "reference"), [
    ("x = 2+2 = 4", "4"), ("2+2 = 4", "4"), ("x = 5", "5"), ("3 + 4 = 7", "7"), ("2^{10} = 1024", "1024"),
    ("10! = 3628800", "3628800"), ("x = \\frac{1}{3} = 0.333", "0.333"), ("\\sqrt{2} = 1.41", "1.41"),
    ("45^\\circ = \\frac{\\pi}{4}", "\\frac{\\pi}{4}"), ("\\frac{1}{2} = 50\\%", "50\\%"), ("x = y = 4", "4"),
    ("f(3) = 2 \\cdot 3 + 1 = 7", "7"), ("P = \\frac{2}{4} = \\frac{1}{2}", "\\frac{1}{2}"),
])
def test_a_chain_whose_sides_are_equal_still_counts(chain, reference):
    for region in (f"\\boxed{{{chain}}}", f"${chain}$", f"The answer is ${chain}$."):
        assert grade_math(region, reference).score == 1.0, (region, reference)


def test_unequal_sides_judges_numbers_only():
    from reward_service.grading.math import parse_whole
    texts = ("x = 5 = 4", "x = y = 4", "a = 3, b = 4", "x^2 = 4 = 5", "i^2 = -1", "\\pi = 3.14", "e = 2.7",
             "\\pi = 3.3", "1,000 = 1000", "x \\le 5 = 4", "5 \\text{ m} = 4", "\\{x \\mid x = 1\\} = 2")
    def parse(side):
        return parse_whole(math_forms.rewrite(side))
    judged = {text: math_forms.unequal_sides(text, parse) for text in texts}
    assert [text for text, unequal in judged.items() if unequal] == ["x = 5 = 4", "x^2 = 4 = 5", "\\pi = 3.3",
                                                                      "x \\le 5 = 4", "5 \\text{ m} = 4"]


# -- invisible characters in an answer (issue 17) --------------------------------------------------------

@pytest.mark.parametrize("blank", ["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u3164"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_invisible_characters_in_an_answer_are_nothing(blank):
    assert _score(f"{blank}42", "42") == 1.0 and _score(f"\\boxed{{4{blank}2}}", "42") == 1.0
    assert math_forms.clean(f"{blank}\\frac{{1}}{blank}{{2}}{blank}") == "\\frac{1}{2}"
    verdict = grade_math(f"{blank} {blank}", "42")
    assert verdict.score == 0.0 and verdict.reason == "no answer found"
