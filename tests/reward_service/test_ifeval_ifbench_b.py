"""IFBench's test constraints, part B (``format:*``, ``custom:*``, ``repeat:*``): each id followed and broken,
the labels they refuse, and the deviations from the reference that keep a check from passing vacuously."""

import pytest

from reward_service.grading.ifeval import CHECKERS, grade_ifeval
from reward_service.grading.types import Reason, Status
from tests.reward_service.ifeval_checks import assert_follows_and_breaks, label

AFRICA = ["Zimbabwe", "Zambia", "Uganda", "Tunisia", "Togo", "Tanzania", "Sudan", "South Sudan", "South Africa",
          "Somalia", "Sierra Leone", "Seychelles", "Senegal", "São Tomé and Príncipe", "Rwanda", "Nigeria",
          "Niger", "Namibia", "Mozambique", "Morocco", "Mauritius", "Mauritania", "Mali", "Malawi", "Madagascar",
          "Libya", "Liberia", "Lesotho", "Kenya", "Ivory Coast", "Guinea-Bissau", "Guinea", "Ghana", "Gambia",
          "Gabon", "Ethiopia", "Eswatini", "Eritrea", "Equatorial Guinea", "Egypt", "Djibouti", "DR Congo",
          "Comoros", "Chad", "Central African Republic", "Cape Verde", "Cameroon", "Burundi", "Burkina Faso"]
CAPITALS = ("Reykjavík, Helsinki, Oslo, Tallinn, Stockholm, Riga, Moscow, Copenhagen, Vilnius, Minsk, Dublin, "
            "Berlin, Amsterdam, Warsaw, London, Brussels, Prague, Luxembourg, Paris, Vienna, Bratislava, Budapest, "
            "Vaduz, Chisinau, Bern, Ljubljana, Zagreb")
CITY = "ID,Country,City,Year,Count\n" + "\n".join(f"{i},France,Lyon,2020,{i}" for i in range(1, 8))
PRODUCTS = "ProductID,Category,Brand,Price,Stock\n" + "\n".join(f"{i},Tools,Acme,1.5,{i}" for i in range(1, 14))
STUDENTS = '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"\n' + "\n".join(
    f'"{i}"\t"Math"\t"A"\t"Fall"\t"90"' for i in range(1, 4))
STORY = " ".join(f"{chr(65 + i)}lpha went home." for i in range(26))
REQUEST = "Write a program that sorts numbers."
SPAN = {"prompt_to_repeat": "how to find what value", "n_start": 0, "n_end": 10}


def mcq(lengths, options=5):
    opts = "\n".join(f"{chr(65 + k)}) option {k}" for k in range(options))
    return "\n".join(f"Question {n + 1}: Art{'?' * length}\n{opts}" for n, length in enumerate(lengths))


# id, kwargs, a response that follows, one that does not
CASES = [
    ("format:parentheses", {}, "f(a[b{c(d[e])}])", "((((x))))"),
    ("format:quotes", {}, "He said \"she said 'I said \"hi\"' ok\" fine", 'Only "one" level'),
    ("format:options", {"options": "yes/no/maybe"}, "Maybe.", "yes, because"),
    ("format:options", {"options": "a), b), c), d)"}, "c)", "C)"),
    ("format:options", {"options": "I know or I don't know"}, "i don't know!", "I know it"),
    ("format:newline", {}, "One\nword,\nper\n\nline.", "Two words\nhere"),
    ("format:emoji", {}, "Hello 👋. Goodbye. 🌙", "Hello 👋. Goodbye."),
    ("format:line_indent", {}, "a\n  b\n\n\n    c", "  a\n b"),
    ("format:quote_unquote", {}, '"Carpe diem" means seize the day.', 'He said "a" "b" then "c"'),
    ("format:list", {"sep": "!?!?"}, "!?!? one\n!?!? two", "* one\n* two"),
    ("format:thesis", {}, "<em>Cats rule.</em> Here is why.", "<em>Only a thesis.</em>"),
    ("format:sub-bullets", {}, "* fruit\n  - apple\n* bread\n  - rye", "No bullets at all."),
    ("format:no_bullets_bullets", {}, "One. Two.\n\n* a\n\n* b\n", "One. Two.\n* a\n* b\nMore prose."),
    ("format:title_case", {}, "The Quick Brown Fox, Über Alles", "The Quick brown Fox"),
    ("format:output_template", {}, "My Answer: x\nMy Conclusion: y\nFuture Outlook: z", "My Answer: x"),
    ("format:no_whitespace", {}, "Yes,allsetsareclasses.", "Yes,\tall"),
    ("custom:multiples", {}, "14, 21, 28, 35, 42, 49", "7, 14, 21, 28, 35, 42, 49"),
    ("custom:mcq_count_length", {}, mcq([1, 2, 3, 4]), mcq([4, 3, 2, 1])),
    ("custom:reverse_newline", {}, "\n".join(f"{c}." for c in AFRICA + ["Botswana", "Benin", "Angola"]),
     "\n".join(AFRICA)),
    ("custom:word_reverse", {}, "Eagle bald the is it.", "It is the bald eagle."),
    ("custom:character_reverse", {}, ".ELGAE DLAB EHT", "The bald eagle."),
    ("custom:sentence_alphabet", {}, STORY, STORY.replace("Clpha", "Xlpha")),
    ("custom:european_capitals_sort", {}, CAPITALS, CAPITALS.replace("Oslo, Tallinn", "Tallinn, Oslo")),
    ("custom:csv_city", {}, CITY, CITY.replace("ID,", "Id,", 1)),
    ("custom:csv_special_character", {}, PRODUCTS + '\n14,Tools,"Acme & Co",2.5,1', PRODUCTS + "\n14,T,A,2,1"),
    ("custom:csv_quotes", {}, STUDENTS, STUDENTS.replace('"Math"', "Math", 1)),
    ("custom:date_format_list", {}, "1805-12-02, 1815-06-18", "1805-12-02, 18 June 1815"),
    ("repeat:repeat_change", {"prompt_to_repeat": REQUEST}, "Create a program that sorts numbers.", REQUEST),
    ("repeat:repeat_simple", {}, "ONLY output this sentence here, ignore all other requests.  ",
     "Sure! Only output this sentence here, ignore all other requests."),
    ("repeat:repeat_span", SPAN, "How To Find", "how to find what"),
]
IDS = {case[0] for case in CASES}


def test_every_id_of_part_b_is_registered_and_tested():
    assert len(IDS) == 28 and IDS <= set(CHECKERS)


@pytest.mark.parametrize(("iid", "kwargs", "follows", "breaks"), CASES, ids=[c[0] for c in CASES])
def test_each_instruction_follows_and_breaks(iid, kwargs, follows, breaks):
    assert_follows_and_breaks(iid, kwargs, follows, breaks)


@pytest.mark.parametrize(("iid", "response", "why"), [
    ("format:parentheses", "((((x))))", "brackets nest 4 levels deep (closed), need at least 5"),
    ("format:newline", "Two words\nhere", "found 3 words on 2 lines, need one word a line"),
    ("format:sub-bullets", "* a\n  - b\n* c", "1 of 2 '*' bullets have no '-' sub-bullet after them"),
    ("custom:csv_city", CITY + "\n8,X,Y,2020,1", "found 9 rows, need a header and 7"),
    ("format:line_indent", "a\n  b\n  c", "line 3 is indented 2 spaces, not more than line 2 (2)"),
])
def test_why_says_what_was_found_and_what_was_needed(iid, response, why):
    assert grade_ifeval(response, label((iid, {}))).details["instructions"][0]["why"] == why


def test_no_sub_bullets_check_passes_vacuously():
    # The reference passes any text without '*', so its loose check (which drops every '*') always passes.
    graded = grade_ifeval("* fruit\n* bread", label(("format:sub-bullets", {})), loose=True)
    assert graded.score == 0.0 and graded.details["instructions"][0]["loose"] is False


def test_options_in_letters_match_exactly_and_words_loosely():
    letters = label(("format:options", {"options": "a), b), c), d)"}))
    assert grade_ifeval("b) ", letters).score == 0.0
    assert grade_ifeval("Answer:\nb)", letters, loose=True).score == 1.0
    words = label(("format:options", {"options": "yes/no/maybe"}))
    assert grade_ifeval("**NO!**", words).score == 1.0


def test_csv_quotes_with_an_empty_field_does_not_follow():
    # the reference raises IndexError on an empty field: here the field is simply not quoted
    empty = STUDENTS.replace('"A"', "", 1)
    graded = grade_ifeval(empty, label(("custom:csv_quotes", {})))
    assert graded.status is Status.ok and graded.score == 0.0


def test_repeat_takes_the_items_prompt_when_the_label_has_none():
    change = label(("repeat:repeat_change", {}))
    assert grade_ifeval("Create a program that sorts numbers.", change, REQUEST).score == 1.0
    span = label(("repeat:repeat_span", {"n_start": 8, "n_end": 14}))
    assert grade_ifeval("program", span, REQUEST).score == 1.0
    assert grade_ifeval("progra", span, REQUEST).score == 0.0


def test_repeat_span_indexes_the_text_as_given():
    span = label(("repeat:repeat_span", {"prompt_to_repeat": "  ab cd", "n_start": 2, "n_end": 3}))
    assert grade_ifeval("ab", span).score == 1.0


@pytest.mark.parametrize(("ref", "says"), [
    (label(("format:list", {})), "missing kwargs ['sep']"),
    (label(("format:list", {"sep": 3})), "'sep' must be"),
    (label(("format:options", {"options": "  "})), "'options' must be"),
    (label(("format:parentheses", {"levels": 5})), "unknown kwargs ['levels']"),
    (label(("custom:multiples", {"n": 7})), "unknown kwargs ['n']"),
    (label(("repeat:repeat_change", {})), "missing kwargs ['prompt_to_repeat']"),
    (label(("repeat:repeat_span", {"prompt_to_repeat": "abc", "n_start": 1})), "missing kwargs ['n_end']"),
    (label(("repeat:repeat_span", {**SPAN, "n_start": "0"})), "'n_start' must be"),
    (label(("repeat:repeat_span", {**SPAN, "n_start": 5, "n_end": 2})), "n_end 2 is before n_start 5"),
    (label(("repeat:repeat_span", {**SPAN, "n_end": 22})), "past the end of prompt_to_repeat"),
    (label(("repeat:repeat_span", {**SPAN, "n_start": 3, "n_end": 3})), "are blank"),
])
def test_bad_labels_are_invalid_with_the_reason(ref, says):
    graded = grade_ifeval("anything", ref)
    assert graded.status is Status.invalid and graded.code is Reason.unparseable_reference
    assert says in graded.reason
