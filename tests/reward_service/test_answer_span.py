"""Which whole span of a final-answer region is the answer (text only; grading is tested elsewhere)."""

from __future__ import annotations

import pytest

from reward_service.grading.answer_span import AnswerSpan, boxes, find_answer, math_runs, reads_as_prose


@pytest.mark.parametrize(("region", "text", "source"), [
    ("so \\boxed{5} it is", "5", "boxed"),
    ("\\boxed{3} wait, actually \\boxed{\\frac{1}{2}}", "\\frac{1}{2}", "boxed"),
    ("$5\\sqrt{3}$", "5\\sqrt{3}", "math_span"),
    ("\\[ 7! \\]", "7!", "math_span"),
    ("Therefore $x \\geq 5$ is the solution.", "x \\geq 5", "math_span"),
    ("We get $2$ and then $$x = \\frac{1}{3}$$ overall", "x = \\frac{1}{3}", "math_span"),
    ("4\\pi", "4\\pi", "bare"),
    ("x \\le 5", "x \\le 5", "bare"),
    ("We have $a=3$, so the answer is 7.", "7", "statement"),
    ("Final Answer: The largest $n$ is 34.", "34", "statement"),
    ("Dr. Z has $10,200 + $255 = $10,455. Final Answer: The final answer is $10,455$. I hope it is correct.",
     "10,455", "statement"),
    ("the step gives \\boxed{200}. Final Answer: The final answer is $10,455$.", "10,455", "statement"),
    ("3 + 4 = <<3+4=7>>7 eggs.\n#### 7", "7", "statement"),
    ("答案：每份应该是 (\\frac{2}{5}) 吨。", "\\frac{2}{5}", "statement"),
    ("Réponse: Janeth aura encore 220 $ à payer d'ici 12 mois.", "220", "statement"),
    ("Solving gives $d = \\frac{90}{n}$. Therefore, there are 12 distinct sequences.", "12", "statement"),
    ("Counting again, she has 18 eggs", "18", "prose"),
    ("所以一共有3 + 10 = 13只鸟", "3 + 10 = 13", "statement"),
    ("计划的比例为13/28", "13/28", "prose"),
    ("she has 18 eggs and 4\\sqrt{2} m of rope in total", "4\\sqrt{2} m", "prose"),
    ("The answer is $\\frac{3}{4}$ since $3 < 4$.", "\\frac{3}{4}", "statement"),
])
def test_the_answer_is_one_whole_span(region, text, source):
    span = find_answer(region)
    assert span is not None and (span.text, span.source) == (text, source)


@pytest.mark.parametrize("region", ["", "I could not solve this problem.", "The answer is", "Let me think more"])
def test_no_answer(region):
    assert find_answer(region) is None


def test_boxes_written_together_form_a_group():
    assert find_answer("\\boxed{1} and \\boxed{2}") == AnswerSpan("2", "boxed", ("1", "2"))
    assert find_answer("$$\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}$$").group == ("(3, 3)", "(1, 1)")
    assert find_answer("\\boxed{1} and and and or thus but \\boxed{2} and \\boxed{3}").group == ("2", "3")
    far = "\\boxed{5} is the first step.\n\nLater we find the roots and \\boxed{7}"
    assert find_answer(far).group == ()


def test_math_spans_written_together_form_a_group():
    assert find_answer("The roots are $1$, $2$ and $3$").group == ("1", "2", "3")
    assert find_answer("The final answer is $12$ and $13$. I hope it is correct.") == \
        AnswerSpan("13", "statement", ("12", "13"))
    assert find_answer("We have $a = 1$. Hence $b$ is $2$").group == ()


def test_currency_dollars_do_not_shift_the_last_span():
    assert find_answer("It costs $5 and then $7, so in total $12$.").text == "12"


def test_boxes_balance_braces_and_skip_unclosed_ones():
    assert [b[2] for b in boxes("\\boxed{\\frac{1}{2}} and \\fbox{3} and \\boxed{4")] == ["\\frac{1}{2}", "3"]
    assert boxes("\\boxed 5 and more") == [(0, 8, "5")]


def test_math_runs_keep_expressions_whole():
    assert [r[2] for r in math_runs("it's 4\\sqrt{2} or x \\le 5, not 12 apples")] == \
        ["4\\sqrt{2}", "x \\le 5", "12"]
    assert [r[2] for r in math_runs("we get 1,000.99m² here")] == ["1,000.99m²"]


def test_prose_is_words_in_a_row_or_script_without_spaces():
    assert reads_as_prose("the answer") and reads_as_prose("总共有")
    assert not reads_as_prose("5 \\text{ apples}") and not reads_as_prose("\\sin x + y") and not reads_as_prose("αβ")


@pytest.mark.parametrize("blank", ["\u200b", "\u200d", "\u2060", "\ufeff", "\u3164", "\u2800"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_invisible_characters_are_nothing_in_a_region(blank):
    assert find_answer(blank * 3) is None and find_answer(f" {blank}\n{blank} ") is None
    assert find_answer(f"\\boxed{{4{blank}2}}") == AnswerSpan("42", "boxed")
    assert find_answer(f"the answer{blank} is 42") == AnswerSpan("42", "statement", prose=True)


@pytest.mark.parametrize(("region", "source"), [("\\boxed{x = 5 = 4}", "boxed"), ("$x = 5 = 4$", "math_span"),
                                                ("The answer is x = 5 = 4.", "statement"), ("x = 5 = 4", "bare")])
def test_a_chain_of_equalities_is_one_whole_span(region, source):
    span = find_answer(region)
    assert span is not None and (span.text, span.source) == ("x = 5 = 4", source)
