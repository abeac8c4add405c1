"""open-instruct's IFEvalG additions (29 ids): each followed and broken, fail-closed labels, the ``why``."""

import pytest

from reward_service.grading.ifeval import CHECKERS, LabelError, grade_ifeval, parse_label
from reward_service.grading.ifeval.ifevalg.sentences import split_into_sentences
from reward_service.grading.types import Reason, Status
from tests.reward_service.ifeval_checks import assert_follows_and_breaks
from tests.reward_service.ifeval_checks import open_instruct_label as label

REQUEST = "Write a limerick about a cat. Keep it short."
SPAN = "Explain photosynthesis to a child."
COMPOSITION = ("The cat sat. A dog ran.\n***\nBirds sing loudly. Fish swim fast.\n***\n"
               "Trees grow tall. Rain falls down.")

# id, kwargs, a response that follows, one that does not
CASES = [
    ("copy:repeat_phrase", {"phrase": "The early bird catches the worm", "small_n": 2},
     "The early cat catches the worm. The early bird eats the worm.",
     "The early bird catches the worm. The early owl catches the worm."),
    ("copy:copy", {"prompt_to_repeat": REQUEST}, "  " + REQUEST.upper(), "Sure! " + REQUEST),
    ("copy:copying_simple", {"prompt_to_repeat": REQUEST}, REQUEST, REQUEST + " There once was a cat."),
    ("copy:copying_multiple", {"prompt_to_repeat": REQUEST, "N": 2}, f"{REQUEST}\n******\n{REQUEST}",
     f"{REQUEST}\n******\n{REQUEST}\n******\n{REQUEST}"),
    ("new:copy_span_idx", {"prompt_to_repeat": SPAN, "n_start": 8, "n_end": 22}, "photosynthesis", SPAN),
    ("detectable_format:sentence_hyphens", {}, "The cat sat.-It was happy.", "The cat sat. - It was happy."),
    ("detectable_format:square_brackets", {}, "[Hello] [world]", "[Hello] world"),
    ("detectable_format:bigram_wrapping", {}, "<<I am>> <<at home>>", "<<I am>> at home"),
    ("keywords:no_adjacent_consecutive", {}, "The cat sat on my rug", "A big cat"),
    ("keywords:word_once", {"keyword": "ocean"}, "The OCEAN is vast.", "The ocean and the oceanic."),
    ("keywords:word_count_different_numbers", {"keyword": "fox", "frequency": 2, "relation": "at least"},
     "Fox and fox", "one fox"),
    ("keywords:exclude_word_harder", {"keyword": "cat"}, "Cat lovers own a cat.", "I have a cat at home."),
    ("keywords:palindrome", {}, "Wow, a racecar", "Hello world"),
    ("keywords:keyword_specific_position", {"keyword": "blue", "n": 2, "m": 3},
     "The sky is clear. It is blue today.", "The sky is clear. It is Blue today."),
    ("keywords:start_end", {}, "Love is all you need love", "Love is all you need love."),
    ("paragraphs:paragraphs", {}, "First.\n***\nSecond.", "First.\n***\n***\nSecond."),
    ("paragraphs:paragraphs2", {}, "\n\nFirst.\n\nSecond.\n\n", "One.\n\nTwo.\n\nThree."),
    ("first_word:first_word_sent", {"first_word": "Cats"}, "Cats purr. cats sleep!", "Cats purr. Dogs bark."),
    ("first_word:first_word_answer", {"first_word": "Hello"}, "hello there", "Hello, world"),
    ("last_word:last_word_sent", {"last_word": "today"}, "I work today. You rest TODAY!", "Today is it."),
    ("last_word:last_word_answer", {"last_word": "goodbye"}, "Well, goodbye!!", "Goodbye and hello"),
    ("punctuation:punctuation_dot", {}, "No dots here", "One. Two"),
    ("punctuation:punctuation_exclamation", {}, "Calm words.", "Wow!"),
    ("count:lowercase_counting", {"N": 2}, "THE CAT is here", "the cat is here"),
    ("count:count_unique", {}, "Every word here is unique", "Hello. Bye."),
    ("count:count_increment_word", {"keyword1": "sun", "keyword2": "moon"}, "Sun, moon, MOON.", "sun moon"),
    ("count:counting_composition", {"n_sent": 2, "n_words": 4}, COMPOSITION, "***\n" + COMPOSITION),
    ("letters:letter_counting", {"N": 5, "relation": "less than"}, "Ça va 123", "Hello"),
    ("letters:letter_counting2", {"letter": "E", "let_frequency": 3, "let_relation": "at least"},
     "E e\ne", "ee"),
]


def test_every_ifevalg_addition_is_registered_and_tested():
    ids = {case[0] for case in CASES}
    assert len(ids) == 29 and ids <= set(CHECKERS)


@pytest.mark.parametrize(("iid", "kwargs", "follows", "breaks"), CASES, ids=[c[0] for c in CASES])
def test_each_instruction_follows_and_breaks(iid, kwargs, follows, breaks):
    assert_follows_and_breaks(iid, kwargs, follows, breaks, label)


def test_why_says_what_was_found():
    def why(iid, kwargs, response):
        return grade_ifeval(response, label((iid, kwargs))).details["instructions"][0]["why"]
    assert why("count:lowercase_counting", {"N": 2}, "the cat is") == (
        "found 3 lowercase words, need at most 2")
    assert why("keywords:keyword_specific_position", {"keyword": "blue", "n": 1, "m": 2}, "A red car.") == (
        "word 2 of sentence 1 is 'red', need 'blue'")
    assert why("copy:copying_multiple", {"prompt_to_repeat": "Hi", "N": 3}, "Hi******Hi") == (
        "found 2 parts split by ******, need 3")


def test_loose_only_forms_count_with_the_option():
    ref = label(("first_word:first_word_answer", {"first_word": "Hello"}))
    assert grade_ifeval("**Hello** friend", ref).score == 0.0
    assert grade_ifeval("**Hello** friend", ref, loose=True).score == 1.0
    copied = label(("copy:copy", {"prompt_to_repeat": REQUEST}))
    assert grade_ifeval(f"Sure, here it is:\n{REQUEST}", copied, loose=True).score == 1.0


def test_keywords_are_literal_text_never_a_pattern():
    ref = label(("keywords:word_once", {"keyword": "a.b"}))
    assert grade_ifeval("a.b once, axb never", ref).score == 1.0
    brackets = label(("count:count_increment_word", {"keyword1": "(", "keyword2": "x"}))
    assert grade_ifeval("(((", brackets).score == 0.0


@pytest.mark.parametrize(("pairs", "says"), [
    ((("copy:repeat_phrase", {"phrase": "Time flies when having fun"}),), "missing kwargs ['small_n']"),
    ((("copy:repeat_phrase", {"phrase": "Time flies", "small_n": "2"}),), "'small_n' must be a positive"),
    ((("count:lowercase_counting", {"N": 0}),), "'N' must be a positive"),
    ((("new:copy_span_idx", {"prompt_to_repeat": SPAN, "n_start": 0, "n_end": 5}),), "'n_start' must"),
    ((("new:copy_span_idx", {"prompt_to_repeat": SPAN, "n_start": 9, "n_end": 9}),),
     "are empty: never followed"),
    ((("copy:copy", {}),), "missing kwargs ['prompt_to_repeat']"),
    ((("letters:letter_counting", {"N": 3, "relation": "at most"}),), "'relation' must be"),
    ((("keywords:word_once", {"keyword": ["ocean"]}),), "'keyword' must be a non-empty string"),
    ((("keywords:start_end", {"word": "x"}),), "unknown kwargs ['word']"),
    ((("letters:letter_counting2", {"letter": "ab", "let_frequency": 1, "let_relation": "at least"}),),
     "'letter' must"),
])
def test_bad_labels_are_invalid_with_the_reason(pairs, says):
    graded = grade_ifeval("anything", label(*pairs))
    assert graded.status is Status.invalid and graded.code is Reason.unparseable_reference
    assert says in graded.reason
    with pytest.raises(LabelError):
        parse_label(label(*pairs))


def test_copy_takes_the_kwarg_never_the_items_prompt():
    with pytest.raises(LabelError, match="prompt_to_repeat"):
        parse_label(label(("copy:copying_simple", {})), "Repeat this request. Then stop.")


def test_sentences_split_as_googles_rule_based_splitter():
    assert split_into_sentences("Dr. Smith met Mr. Jones at 3.30 p.m. in the U.S. He left!") == [
        "Dr. Smith met Mr. Jones at 3.30 p.m. in the U.S.", "He left!"]
    assert split_into_sentences('Wait... "Really?" Yes.\nVisit example.com now') == [
        "Wait...", '"Really"?', "Yes.", "Visit example.com now"]
