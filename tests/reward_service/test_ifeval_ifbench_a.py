"""IFBench's test constraints, part A (count, ratio, sentence, words): verdicts as IFBench gives them, fail-closed
labels, and where we deviate from the reference on purpose (each case says why)."""

import pytest

from reward_service.grading.ifeval import CHECKERS, LabelError, grade_ifeval, parse_label
from reward_service.grading.types import Reason, Status
from tests.reward_service.ifeval_checks import assert_follows_and_breaks, label

KW5 = {"keyword1": "sun", "keyword2": "moon", "keyword3": "star", "keyword4": "sky", "keyword5": "sea"}
FIVE = "Sun moon MOON star star star sky sky sky sky sky; sea sea sea sea sea sea sea."
REF = "The quick brown fox jumps over the lazy dog near the river bank."

# id, kwargs, a response that follows, one that does not
CASES = [
    ("count:word_count_range", {"min_words": 5, "max_words": 8}, "It's a **bold** claim, isn't it?", "Too short."),
    ("count:unique_word_count", {"N": 5}, "One, two; three! FOUR five...", "the The THE the, the"),
    ("count:conjunctions", {"small_n": 3}, "I came and saw, but left, so there.", "Tea or coffee?"),
    ("count:person_names", {"N": 3}, "Emma, Liam and **Sophia**.", "emma, Emmanuel and Liam."),
    ("count:numbers", {"N": 3}, "Pi is 3.14, e is 2.71 and 1,000 is big.", "Call 555-1234 at 9am."),
    ("count:punctuation", {}, "Really?! Yes, it is. Why? Because: reasons; more!", "Hello, world. Ok? Fine!"),
    ("count:words_japanese", {"N": 2}, "I 猫 like 犬, 42 寿司", "I love Japan too"),
    ("count:pronouns", {"N": 4}, "She/her/hers and they.", "The cat sat on my mat."),
    ("count:keywords_multiple", KW5, FIVE, FIVE.replace("Sun", "Sunny sun")),
    ("ratio:stop_words", {"percentage": 40}, "Quantum computing leverages superposition.", "I am in the house."),
    ("ratio:sentence_type", {}, "I run. You walk. Do we agree?", "What? Why? It is."),
    ("ratio:sentence_balance", {}, "Dr. Smith came. Did he? Yes!", "Only statements. Nothing else."),
    ("ratio:overlap", {"reference_text": REF, "percentage": 100}, "lazy dog near the river", "THE LAZY DOG"),
    ("ratio:sentence_words", {}, "Red fox. Big cat. Old owl.", "Red fox. Big cat. Old owls."),
    ("sentence:alliteration_increment", {}, "A cat. Dirty dogs. Five fat frogs fly.", "Big blue bees. A cat."),
    ("sentence:keyword", {"word": "apple", "N": 2}, "Fruit. The APPLE pie.", "Fruit. Pineapple pie. Apple."),
    ("sentence:increment", {"small_n": 2}, "I ran. I ran so far. I ran so far from home.", "Hi there. Hi you."),
    ("words:alphabet", {}, "Xylophones yield zesty, antic beats!", "Apple cat dog."),
    ("words:vowel", {}, "A cat sat on a mat.", "Education is unique."),
    ("words:consonants", {}, "Strong, black cats!", "A strong cat"),
    ("words:palindrome", {}, "Level, radar: civic kayak refer rotor stats tenet madam racecar!", "level " * 9),
    ("words:prime_lengths", {}, "It's on, we can!", "Four words."),
    ("words:repeats", {"small_n": 2}, "The cat and the dog.", "Go, GO, go!"),
    ("words:odd_even_syllables", {}, "Cat, apple; dog table!", "Apple table"),
    ("words:last_first", {}, "I like the dog. Dog is here. HERE we go.", "The sky is blue. Red is nice."),
    ("words:paragraph_last_first", {}, "Love conquers love.\n\nPeace brings peace!", "Hello, world"),
    ("words:no_consecutive", {}, "The cat ran quickly.", "Apple, avocado."),
    ("words:keywords_specific_position", {"keyword": "blue", "n": 2, "m": 3},
     "Hi there. The sky, blue, is nice.", "Hi there. The sky is blue."),
    ("words:words_position", {"keyword": "cat"}, "The cat saw a CAT there.", "The cat saw a cat."),
]


def test_every_id_of_part_a_is_registered_and_tested():
    modules = {"count", "ratio", "sentence", "words"}
    ours = {iid for iid, c in CHECKERS.items() if c.rule.__module__.rsplit(".", 2)[-2:][0] == "ifbench"
            and c.rule.__module__.rsplit(".", 1)[1] in modules}
    assert ours == {case[0] for case in CASES} and len(ours) == 29
    assert "words:start_verb" not in CHECKERS   # needs NLTK's POS tagger: no offline data


@pytest.mark.parametrize(("iid", "kwargs", "follows", "breaks"), CASES, ids=[c[0] for c in CASES])
def test_each_instruction_follows_and_breaks(iid, kwargs, follows, breaks):
    assert_follows_and_breaks(iid, kwargs, follows, breaks)


@pytest.mark.parametrize(("iid", "kwargs", "response", "why"), [
    ("count:word_count_range", {"min_words": 5, "max_words": 8}, "Too short.", "found 2 words, need 5 to 8"),
    ("count:punctuation", {}, "Is it?! Sure.", "missing , ! ? ; : besides the interrobang"),
    ("words:alphabet", {}, "Apple cat", "word 2 'cat' starts with 'c', need 'b'"),
    ("sentence:increment", {"small_n": 2}, "Hi there. Hi you.",
     "words per sentence [2, 2]: sentence 2 is not 2 longer"),
    ("ratio:stop_words", {"percentage": 40}, "I am in the house.",
     "stop words are 80.0% of 5 words, need at most 40%"),
])
def test_why_says_what_was_found_and_what_was_needed(iid, kwargs, response, why):
    assert grade_ifeval(response, label((iid, kwargs))).details["instructions"][0]["why"] == why


def test_loose_counts_a_response_whose_first_line_breaks_the_rule():
    ref = label(("words:vowel", {}))
    response = "Sure, here it is:\nA cat sat on a mat."
    assert grade_ifeval(response, ref).score == 0.0
    assert grade_ifeval(response, ref, loose=True).score == 1.0


def test_reference_text_is_used_as_given():
    # "k \n" holds trigrams a stripped text would lose: IFBench's reference texts end in whitespace.
    ref = label(("ratio:overlap", {"reference_text": "bank \n", "percentage": 100}))
    assert parse_label(ref)[0].kwargs["reference_text"] == "bank \n"
    assert grade_ifeval("nk \n", ref).score == 1.0  # stripped: 0 %


@pytest.mark.parametrize(("iid", "response"), [
    ("count:conjunctions", "And AND and, and."),           # reference: 3 raw tokens count as 3 conjunctions
    ("ratio:sentence_type", "Wow! Great!"),                # reference: 0 to 0 keeps a 2:1 ratio
    ("ratio:sentence_balance", "A list without endings"),  # reference: 0 = 0 = 0 is balanced
])
def test_deviations_a_vacuous_or_inflated_count_does_not_pass(iid, response):
    kwargs = {"small_n": 3} if iid == "count:conjunctions" else {}
    assert grade_ifeval(response, label((iid, kwargs)), loose=True).score == 0.0


@pytest.mark.parametrize(("ref", "says"), [
    (label(("words:start_verb", {})), "unknown instruction id"),
    (label(("count:word_count_range", {"min_words": 5})), "missing kwargs ['max_words']"),
    (label(("count:word_count_range", {"min_words": 9, "max_words": 8})), "above max_words"),
    (label(("count:numbers", {"N": "three"})), "'N' must be"),
    (label(("count:numbers", {"N": 2.5})), "'N' must be"),
    (label(("count:words_japanese", {"N": 0})), "'N' must be a positive"),
    (label(("sentence:keyword", {"word": "apple", "N": 0})), "'N' must be a positive"),
    (label(("sentence:keyword", {"word": "  ", "N": 1})), "'word' must be"),
    (label(("words:keywords_specific_position", {"keyword": "x", "n": 0, "m": 1})), "'n' must be"),
    (label(("count:keywords_multiple", {k: v for k, v in KW5.items() if k != "keyword5"})),
     "missing kwargs ['keyword5']"),
    (label(("ratio:stop_words", {"percentage": -1})), "'percentage' must be"),
    (label(("words:repeats", {"small_n": 2, "N": 1})), "unknown kwargs ['N']"),
])
def test_bad_labels_are_invalid_with_the_reason(ref, says):
    graded = grade_ifeval("anything", ref)
    assert graded.status is Status.invalid and graded.code is Reason.unparseable_reference
    assert says in graded.reason
    with pytest.raises(LabelError):
        parse_label(ref)


def test_float_counts_from_the_data_set_are_accepted():
    # IFBench's rows store counts as floats (5.0).
    assert parse_label(label(("count:numbers", {"N": 3.0})))[0].kwargs == {"N": 3}
