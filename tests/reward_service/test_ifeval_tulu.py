"""Tulu 3's ``{"func_name": ..., **kwargs}`` labels: open-instruct's 25 if_functions, their own rules."""

import json

import pytest

from reward_service.grading.ifeval import CHECKERS, LabelError, grade_ifeval, parse_label
from reward_service.grading.types import Reason, Status
from reward_service.recipes import resolve
from reward_service.schemas import ScoreItem
from reward_service.scoring import score_item

EN = "The quick brown fox jumps over the lazy dog and runs into the forest to find some food for dinner tonight"
FR = "Le renard brun rapide saute par-dessus le chien paresseux et court dans la forêt pour trouver à manger"
# RLVR-IFeval rows carry every kwarg name, null where unused
NULLS = dict.fromkeys(["N", "quantifier", "end_phrase", "keyword_list", "word", "forbidden_words", "letter", "i",
                       "first_word", "postscript_marker", "options", "section_splitter", "original_prompt",
                       "language"])


def tulu(name, **kwargs):
    return json.dumps({"func_name": name, **NULLS, **kwargs})


# func_name, kwargs, a response that follows, one that does not
CASES = [
    ("verify_keywords", {"keyword_list": ["Fox", "forest"]}, "deforestation by a FOX", "A dog sleeps."),
    ("verify_keyword_frequency", {"word": "cat", "N": 2}, "Cat, CAT!", "cats cat"),
    ("validate_forbidden_words", {"forbidden_words": ["dog"]}, "A cat.", "Doggedly."),
    ("verify_letter_frequency", {"letter": "Z", "N": 2}, "ZZ zz", "zz"),
    ("validate_response_language", {"language": "fr"}, FR, EN),
    ("verify_paragraph_count", {"N": 2}, "  First.  \n  * * *  \nSecond.", "First.\n***\nSecond."),
    ("validate_word_constraint", {"N": 10, "quantifier": "around"}, "w " * 9, "w " * 8),
    ("verify_sentence_constraint", {"N": 2, "quantifier": "at most"}, "Mr. Smith came. He left.", "A. B. C."),
    ("validate_paragraphs", {"N": 2, "first_word": "Then", "i": 2}, "Intro.\n\nThenceforth, more.",
     "Intro.\n\nthen more."),
    ("verify_postscript", {"postscript_marker": "P.S."}, "Hi.\nP.S. bye", "Hi.\nP.S."),
    ("validate_placeholders", {"N": 2}, "Dear [name] at [address]", "Dear [name]"),
    ("verify_bullet_points", {"N": 2}, "* one\n- two", "* one\n* two\n---"),
    ("validate_title", {}, "<<>> empty still counts", "< <no title> >"),
    ("validate_choice", {"options": ["My answer is yes.", "My answer is no."]}, "So: My answer is no.", "No."),
    ("validate_highlighted_sections", {"N": 2}, "*a* and **", "*a* only"),
    ("validate_sections", {"N": 2, "section_splitter": "SECTION"}, "SECTION 1 a SECTION 2 b", "Intro SECTION 1 a"
     " SECTION 2 b"),
    ("validate_json_format", {}, '\n{"a": [1, 2]}\n', '```json\n{"a": 1}\n```'),
    ("validate_repeat_prompt", {"original_prompt": "Write a poem."}, "Write a poem. Here it is", "write a poem."),
    ("validate_two_responses", {}, "One.\n******\nTwo.", "Same.\n******\nSame."),
    ("validate_uppercase", {}, "HELLO, 42!", "HELLO world"),
    ("validate_lowercase", {}, "hello, 42!", "hello World"),
    ("validate_frequency_capital_words", {"N": 2, "quantifier": "at least"}, "I SAW A dog", "I saw a dog"),
    ("validate_end", {"end_phrase": "Peace!"}, "Goodbye. Peace!\n\n", "Peace! Out."),
    ("validate_quotation", {}, ' "Quoted." ', 'Quoted "answer."'),
    ("validate_no_commas", {}, "No comma here.", "1,000 commas"),
]


def test_every_tulu_function_is_registered_and_tested():
    assert {i for i in CHECKERS if i.startswith("tulu3:")} == {f"tulu3:{c[0]}" for c in CASES}
    assert len(CASES) == 25


@pytest.mark.parametrize(("name", "kwargs", "follows", "breaks"), CASES, ids=[c[0] for c in CASES])
def test_each_function_follows_and_breaks(name, kwargs, follows, breaks):
    good, bad = grade_ifeval(follows, tulu(name, **kwargs)), grade_ifeval(breaks, tulu(name, **kwargs))
    assert good.status is Status.ok and good.score == 1.0, good.details
    assert bad.score == 0.0 and bad.code is Reason.not_followed, bad.details
    assert bad.details["instructions"][0]["id"] == f"tulu3:{name}" and bad.details["instructions"][0]["why"]


def test_the_label_may_be_the_dict_and_nulls_are_dropped():
    [ins] = parse_label(tulu("validate_end", end_phrase="Bye."))
    assert (ins.id, ins.kwargs) == ("tulu3:validate_end", {"end_phrase": "Bye."})


def test_label_strings_are_used_as_given_not_stripped():
    ref = tulu("validate_end", end_phrase="bye ")  # open-instruct strips the answer, never the phrase
    assert parse_label(ref)[0].kwargs == {"end_phrase": "bye "}
    assert grade_ifeval("ok bye", ref).score == 0.0


@pytest.mark.parametrize(("ref", "says"), [
    (tulu("verify_made_up"), "unknown instruction id 'tulu3:verify_made_up'"),
    (json.dumps({"func_name": None, "N": 2}), "unknown instruction id None"),
    (json.dumps({"N": 2, "quantifier": "at least"}), "'func_name'"),
    (tulu("validate_no_commas", N=3), "unknown kwargs ['N']"),
    (tulu("verify_bullet_points"), "missing kwargs ['N']"),
    (tulu("verify_bullet_points", N="three"), "'N' must be"),
    (tulu("validate_word_constraint", N=5, quantifier="exactly"), "quantifier must be one of"),
    (tulu("verify_letter_frequency", letter="ab", N=1), "one character"),
    (tulu("validate_paragraphs", N=2, first_word="x", i=3), "past N=2"),
    (tulu("validate_paragraphs", N=2, first_word="x", i=0), "'i' must be"),
    (tulu("validate_choice", options="('yes', 'no')"), "'options' must be"),
    (tulu("validate_end", end_phrase=""), "'end_phrase' must be"),
    (tulu("validate_response_language", language="xx"), "'language' must be"),
])
def test_bad_tulu_labels_are_invalid_with_the_reason(ref, says):
    graded = grade_ifeval("anything", ref)
    assert graded.status is Status.invalid and graded.code is Reason.unparseable_reference
    assert says in graded.reason
    with pytest.raises(LabelError):
        parse_label(ref)


def test_why_says_what_was_found_against_what_was_needed():
    def why(response, ref):
        return grade_ifeval(response, ref).details["instructions"][0]["why"]
    assert why("w w w", tulu("validate_word_constraint", N=5, quantifier="at least")) == \
        "found 3 words, need at least 5"
    assert why("A. B.", tulu("verify_sentence_constraint", N=5, quantifier="around")) == \
        "found 2 sentences, need around 5 (±1)"
    assert why("a a", tulu("verify_letter_frequency", letter="a", N=3)) == \
        "found 2 'a' (case-sensitive), need exactly 3"


def test_an_empty_answer_and_undetectable_language_follow_nothing():
    assert grade_ifeval("   ", tulu("validate_no_commas")).score == 0.0   # open-instruct: 1.0
    assert grade_ifeval("[1, 2]", tulu("validate_response_language", language="en")).score == 0.0  # it crashes


def test_loose_counts_a_response_whose_first_line_breaks_the_rule():
    ref = tulu("validate_quotation")
    response = "Here it is:\n\"My answer.\""
    assert grade_ifeval(response, ref).score == 0.0
    assert grade_ifeval(response, ref, loose=True).score == 1.0


def test_scored_as_an_item_on_the_final_answer_with_the_label_object():
    recipe = resolve({"components": {"accuracy": {}}}, "")
    label = {"func_name": "validate_lowercase", "N": None}
    good = ScoreItem(completion="<think>Plan It</think>\n\nall lowercase", answer=label, task="ifeval")
    bad = ScoreItem(completion="<think>plan</think>Not lowercase", answer=label, task="ifeval")
    assert score_item(good, recipe)[0].reward == 1.0 and score_item(bad, recipe)[0].reward == 0.0
