"""IFBench's ``custom:*`` constraints: each belongs to one fixed prompt (IFBench's test set) and checks the
answer's form, and sometimes its content (the capitals, the bald eagle), as the reference checks it.

The CSV rules read CSV with Python's ``csv`` module, as the reference does; text it cannot read (``csv.Error``)
does not follow, where the reference would crash.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import string
import unicodedata
from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.ifbench.format import NO_PUNCTUATION
from reward_service.grading.ifeval.registry import rule
from reward_service.grading.ifeval.text import sentences

MULTIPLES_OF_7 = [str(n) for n in range(14, 51, 7)]
CAPITALS_NORTH_OF_45 = [
    "Reykjavik", "Helsinki", "Oslo", "Tallinn", "Stockholm", "Riga", "Moscow", "Copenhagen", "Vilnius", "Minsk",
    "Dublin", "Berlin", "Amsterdam", "Warsaw", "London", "Brussels", "Prague", "Luxembourg", "Paris", "Vienna",
    "Bratislava", "Budapest", "Vaduz", "Chisinau", "Bern", "Ljubljana", "Zagreb",
]  # by latitude, north first: the reference's answer
CITY_HEADER = ["ID", "Country", "City", "Year", "Count"]
_PRODUCT_HEADER = re.compile(r"^(ProductID|\"ProductID\"),[ \t]*(Category|\"Category\"),[ \t]*(Brand|\"Brand\"),"
                             r"[ \t]*(Price|\"Price\"),[ \t]*(Stock|\"Stock\")$")
_STUDENT_HEADER = re.compile(r"^(StudentID|\"StudentID\")\t *(Subject|\"Subject\")\t *(Grade|\"Grade\")\t *"
                             r"(Semester|\"Semester\")\t *(Score|\"Score\")$")
_OPTION_LINE = re.compile(r"^[A-Ea-e][\.|\)]\s*\w+")
_PUNCT_SPACE = string.punctuation + " "


def _ascii(text: str) -> str:
    """Accents dropped (``São Tomé`` -> ``Sao Tome``), as the reference compares names."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _csv_rows(text: str, delimiter: str = ",") -> list[list[str]] | None:
    try:
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        return None


@rule("custom:multiples")
def multiples(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = re.findall(r"\d+", response)
    return found == MULTIPLES_OF_7, f"printed {found[:10]}, need exactly {MULTIPLES_OF_7}"


def _question_shape(question: str) -> tuple[int, int]:
    """(options, length of the question's text): text is the lines before the first ``A.``/``a)`` option."""
    text, options = "", 0
    for line in question.split("\n"):
        if _OPTION_LINE.match(line.strip()):
            options += 1
        elif not options:
            text += " " + line.strip()
    return options, len(text.strip())


@rule("custom:mcq_count_length")
def mcq_count_length(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    if not response.startswith("Question"):
        return False, "does not start with 'Question' (no explanation allowed before it)"
    parts = re.split(r"\n*(?:Question \d+[\.|\):;]?\s*)", response)
    questions = [part.strip() for part in parts if part.strip()]
    if len(questions) != 4:
        return False, f"found {len(questions)} 'Question N' questions, need 4"
    shapes = [_question_shape(question) for question in questions]
    counts = [options for options, _ in shapes]
    if counts != [5] * 4:
        return False, f"found {counts} options per question, need 5 each"
    lengths = [length for _, length in shapes]
    longer = all(a < b for a, b in itertools.pairwise(lengths))
    return longer, f"question lengths {lengths}, need each longer than the one before"


@rule("custom:reverse_newline")
def reverse_newline(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    lines = [line.strip(_PUNCT_SPACE) for line in response.split("\n") if line.strip(_PUNCT_SPACE)]
    start = next((i for i, line in enumerate(lines) if "Zimbabwe" in line), None)
    if start is None:
        return False, "no line with 'Zimbabwe' to start from"
    listed = [_ascii(line) for line in lines[start:]]
    if len(listed) < 52:
        return False, f"found {len(listed)} lines from 'Zimbabwe' on, need at least 52"
    ordered = listed == sorted(listed, reverse=True)
    return ordered, f"{len(listed)} lines, {'' if ordered else 'not '}in reverse alphabetical order"


@rule("custom:word_reverse")
def word_reverse(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    words = response.lower().strip().translate(NO_PUNCTUATION).split()
    restored = " ".join(reversed(words))
    if "bald eagle" not in restored:
        return False, "read backwards, the words do not say 'bald eagle'"
    one = restored in sentences(restored)
    return one, "one sentence, word order reversed" if one else "read backwards, it is not one sentence"


@rule("custom:character_reverse")
def character_reverse(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    ok = "elgae dlab" in response.lower()
    return ok, "'bald eagle' spelled backwards" if ok else "no 'elgae dlab' ('bald eagle' backwards)"


@rule("custom:sentence_alphabet")
def sentence_alphabet(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = sentences(response)
    if len(found) != 26:
        return False, f"found {len(found)} sentences, need 26"
    for i, sentence in enumerate(found):
        words = sentence.split()
        if not words or words[0].lower()[0] != chr(ord("a") + i):
            return False, f"sentence {i + 1} does not start with {chr(ord('A') + i)!r}"
    return True, "26 sentences, A to Z"


@rule("custom:european_capitals_sort")
def european_capitals_sort(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    named = [name.strip() for name in _ascii(response).split(",") if name.strip()]
    if len(named) != len(CAPITALS_NORTH_OF_45):
        return False, f"found {len(named)} comma-separated names, need {len(CAPITALS_NORTH_OF_45)}"
    wrong = next((i for i, name in enumerate(named) if name != CAPITALS_NORTH_OF_45[i]), None)
    if wrong is None:
        return True, "the capitals, in order"
    return False, f"name {wrong + 1} is {named[wrong][:30]!r}, need {CAPITALS_NORTH_OF_45[wrong]!r}"


@rule("custom:csv_city")
def csv_city(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    rows = _csv_rows(response)
    if rows is None or len(rows) != 8:
        return False, f"found {'unreadable CSV' if rows is None else f'{len(rows)} rows'}, need a header and 7"
    if rows[0] != CITY_HEADER:
        return False, f"header {rows[0][:6]}, need {CITY_HEADER}"
    short = sum(1 for row in rows[1:] if len(row) != 5)
    return not short, f"{short} of 7 rows do not have 5 fields"


def _quoted_special(field: str) -> bool:
    return re.match(r'".*[^\d\w\s].*"', field) is not None


@rule("custom:csv_special_character")
def csv_special_character(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    if not _PRODUCT_HEADER.match(response.split("\n")[0].strip()):
        return False, "the first line is not the header ProductID,Category,Brand,Price,Stock"
    rows = _csv_rows(response.replace('"', '"""'))  # the quotes stay in the fields, to be seen below
    if rows is None or len(rows) != 15:
        return False, f"found {'unreadable CSV' if rows is None else f'{len(rows)} rows'}, need a header and 14"
    for row in rows[1:]:  # as the reference: rows after the first quoted special field are not looked at
        if len(row) != 5:
            return False, f"a row has {len(row)} fields, need 5"
        if any(_quoted_special(field) for field in row):
            return True, "a field with a special character, in double quotes"
    return False, "no field with a special character in double quotes"


@rule("custom:csv_quotes")
def csv_quotes(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    if not _STUDENT_HEADER.match(response.split("\n")[0].strip()):
        return False, "the first line is not the tab-separated header StudentID Subject Grade Semester Score"
    rows = _csv_rows(response.replace('"', '"""'), delimiter="\t")
    if rows is None or len(rows) != 4:
        return False, f"found {'unreadable CSV' if rows is None else f'{len(rows)} rows'}, need a header and 3"
    for row in rows:
        if len(row) != 5:
            return False, f"a row has {len(row)} fields, need 5"
        # an empty field is unquoted (the reference crashes on it: IndexError)
        if not all(len(f.strip()) and f.strip()[0] == '"' and f.strip()[-1] == '"' for f in row):
            return False, "a field is not in double quotes"
    return True, "4 rows of 5 double-quoted, tab-separated fields"


_DAYS = {1: 31, 3: 31, 5: 31, 7: 31, 8: 31, 10: 31, 12: 31, 4: 30, 6: 30, 9: 30, 11: 30, 2: 29}


def _bad_date(text: str) -> bool:
    """Not YYYY-MM-DD in Napoleon's lifetime (1769-1821); as in the reference, day 00 passes and month 00
    takes any day."""
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return True
    year, month, day = (int(part) for part in text.split("-"))
    return not 1769 <= year <= 1821 or month > 12 or day > _DAYS.get(month, 99)


@rule("custom:date_format_list")
def date_format_list(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    bad = [date.strip() for date in response.strip().split(",") if _bad_date(date.strip())]
    return not bad, f"not a YYYY-MM-DD date of 1769-1821: {bad[:3]}" if bad else "comma-separated dates"
