"""Which whole span of a final-answer region is the answer. Text only: nothing here parses mathematics.

A grader that reads a number out of a larger expression (``4`` out of ``4\\sqrt{2}``, ``5`` out of
``x \\le 5``) rewards the wrong thing, and one that reads ``\\boxed{X}``, ``$X$`` and a bare ``X``
differently teaches a policy to game the form. So the answer is always one whole span, chosen in this order:

1. ``boxed``: the last ``\\boxed{}`` (or ``\\fbox{}``); boxes written together at the very end
   (``\\boxed{1} and \\boxed{2}``) are kept as a group, for references with several values. Only a
   "final answer is …" statement after the last box outranks it (Minerva's format, after boxed steps);
2. ``statement``: the last "answer is …" style statement (``####`` lines, several languages): the
   math that follows it is a check or a note (``the answer is $\\frac34$ since $3 < 4$``), the math
   before it working (``we have $a=3$, so the answer is 7``). A concluding sentence (``Therefore, there
   are 12 sequences``) counts only after the last math span;
3. ``math_span``: the last ``$…$``, ``$$…$$``, ``\\(…\\)`` or ``\\[…\\]`` (paired from the end, so currency
   dollars earlier in the text do not shift it), unless its content is prose; a statement that holds it
   (``the answer is $7$``) gives the same span;
4. ``bare``: the region itself, when it is short and not prose (``<answer>4\\pi</answer>``);
5. ``prose``: the last run of mathematics holding a digit (``… so she has 18 eggs``), whole.

Within a statement or prose the answer is a maximal *run* of mathematical tokens (numbers, operators,
LaTeX commands with their arguments, single-letter variables), never a number cut out of one. Invisible
characters (zero-width spaces and joiners, BOM, …: :func:`extract.drop_invisible`) are dropped first: a region
of nothing else has no answer, and ``4\u200b2`` is ``42``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from reward_service.grading.extract import drop_invisible

__all__ = ["AnswerSpan", "boxes", "find_answer", "last_boxed", "math_runs", "reads_as_prose"]

Source = Literal["boxed", "math_span", "bare", "statement", "prose"]

BARE_ANSWER_CHARS = 120      # a longer region is not one bare answer
STATEMENT_REACH = 150        # characters after an anchor in which its answer must start
MAX_STATEMENTS = 20          # the last this many "answer is" anchors are tried, not thousands of them
MAX_GROUP = 8                # answers written together: at most this many parts
GROUP_GAP_WORDS = 4          # "\boxed{1} \text{ for part (a) and } \boxed{2}" is one group; a sentence is not

_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_PROSE = re.compile(r"(?<![\\\w])[^\W\d_]{2,}\s+[^\W\d_]{2,}(?!\w)"  # two words in a row
                    r"|[^\W\d_A-Za-z\u0370-\u03ff]{2}")                    # or two letters of a script
                                                                         # written without spaces (CJK…)
_TEXT_ARG = re.compile(r"\\(?:text|textbf|textit|mbox|mathrm|operatorname)\s*\{[^{}]*\}")
_DELIMITER = re.compile(r"\\\$|\$\$|\$|\\\(|\\\)|\\\[|\\\]")
_OPENER = {"$$": "$$", "$": "$", "\\)": "\\(", "\\]": "\\["}
_ANCHOR = re.compile(
    r"(?:^|(?<=\W))(?i:(?:final\s+)?answer\s*(?:is|:|=|would\s+be|should\s+be|will\s+be)"
    r"|(?:la\s+)?r[ée]ponse\s*(?:est|:)|respuesta\s*(?:es|:)|antwort\s*(?:ist|:)|ответ\s*:?)"
    r"|答案\s*(?:是|为|為|:|：)|(?:\*\*)?结论(?:\*\*)?\s*(?:是|为|:|：)|الإجابة|الجواب|उत्तर|^####",
    re.MULTILINE)
# A sentence that opens with one of these concludes; the last expression in it is the answer it states.
_CONCLUSION = re.compile(
    r"(?<![\w\\])(?i:therefore|thus|hence|in conclusion|finally|donc|ainsi|en conclusion)(?!\w)"
    r"|(?:^|(?<=[.!?:;,]\s)|(?<=\n))(?i:so)(?!\w)|因此|所以|لذا|इसलिए", re.MULTILINE)
_FINAL = re.compile(r"(?i:final)|####")  # a "final answer" statement outranks any math after it
_SENTENCE_END = re.compile(r"(?<!\d)[.!?](?!\d)|[。！？\n]")
# One token of written mathematics; a run is a maximal sequence of them (see math_runs).
_BRACES = r"\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}"
_TOKEN = (
    rf"\\[A-Za-z]+\*?(?:\s*{_BRACES}|\s*\[[^\]]*\])*"        # \frac{1}{2}, \sqrt[3]{x}, \le, \text{ cm}
    r"|\\[{}|,;:! ]"                                          # \{ \} \, \;
    r"|\d+(?:[.,]\d+)*"                                       # 3, 3.5, 1,000
    r"|(?<![^\W\d_])(?:sin|cos|tan|log|ln|exp|sqrt|pi|inf)(?![^\W\d_])"
    r"|(?<![^\W\d_])(?i:[ap]\.\s?m\.)"                        # a.m., p.m.
    r"|(?<![^\W\d_]|['’])[A-Za-z](?!(?![²³])[^\W\d_]|['’])"    # a variable: one Latin letter alone
    rf"|{_BRACES}"
    r"|[-+−*/×÷^=<>≤≥≠!|()\[\]_%:π√∞·,;²³]|[ \t]+"
)
_RUN = re.compile(rf"(?:{_TOKEN})+")
_SPANS = re.compile(r"\$\$(.+?)\$\$|(?<!\\)\$(.+?)(?<!\\)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_TRIM = " \t,;:*"
_LIST_GAP = re.compile(r"\s*(?:[,;]?\s*(?:and|or|\\text\{\s*(?:and|or)\s*\}|\\quad)?)\s*")  # "$1$, $2$ and $3$"


@dataclass(frozen=True)
class AnswerSpan:
    """The text graded as the answer and where it came from."""

    text: str
    source: Source
    group: tuple[str, ...] = ()  # several answers written together (boxes, math spans; the last is ``text``)
    prose: bool = False          # read out of a sentence (a run), not written as mathematics


def _closing_braces(text: str) -> dict[int, int]:
    """The index of the ``}`` that closes each ``{`` that is closed (one pass, so unclosed boxes cost no more)."""
    closes, stack = {}, []
    for i, c in enumerate(text):
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            closes[stack.pop()] = i
    return closes


def boxes(text: str) -> list[tuple[int, int, str]]:
    """Every top-level box as (start, end, content), in order; a box nested in another is its content's.
    ``\\boxed 5`` (no braces) is the box of ``5``; a box whose brace never closes is none."""
    found: list[tuple[int, int, str]] = []
    closes: dict[int, int] | None = None
    pos = 0
    while (m := _BOX.search(text, pos)) is not None:
        i = m.end()
        while i < len(text) and text[i] == " ":
            i += 1
        pos = m.end()
        if i < len(text) and text[i] == "{":
            closes = _closing_braces(text) if closes is None else closes
            if i in closes:
                found.append((m.start(), closes[i] + 1, text[i + 1:closes[i]]))
                pos = closes[i] + 1
        elif i > m.end():
            token = text[i:i + 200].split(maxsplit=1)
            if token:
                found.append((m.start(), i + len(token[0]), token[0].rstrip(".,;$")))
                pos = i + len(token[0])
    return found


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced; None when absent."""
    found = boxes(text)
    return found[-1][2] if found else None


def reads_as_prose(text: str) -> bool:
    """Two words in a row, outside ``\\text{}``: a sentence, not an answer."""
    return bool(_PROSE.search(_TEXT_ARG.sub(" ", text)))


def _joins(gap: str) -> bool:
    """Whether two boxes separated by ``gap`` were written together (``, ``, ``\\quad\\text{and}\\quad``)."""
    words = re.sub(r"\\[A-Za-z]+|[^\w]", " ", gap).split()
    return len(gap) <= 60 and len(words) <= GROUP_GAP_WORDS and "\n\n" not in gap


def _box_group(found: list[tuple[int, int, str]], text: str) -> tuple[str, ...]:
    group = [found[-1]]
    for box in reversed(found[:-1]):
        if not _joins(text[box[1]:group[0][0]]):
            break
        group.insert(0, box)
    return tuple(b[2] for b in group) if len(group) > 1 else ()


def _last_span_before(text: str, limit: int) -> tuple[int, int, str] | None:
    """The last math span that ends by ``limit``, delimiters paired from the end (in one pass over them)."""
    tokens = [(m.start(), m.end(), m.group()) for m in _DELIMITER.finditer(text, 0, limit) if m.group() != "\\$"]
    last: dict[str, int] = {}  # the index of the last token of each kind seen so far
    before: list[dict[str, int]] = []
    for k, (_, _, kind) in enumerate(tokens):
        before.append(dict(last))
        last[kind] = k
    for k in range(len(tokens) - 1, 0, -1):
        start, end, closer = tokens[k]
        opener = _OPENER.get(closer)
        j = before[k].get(opener, -1) if opener else -1
        if j < 0:
            continue
        if opener in ("$", "$$") and before[k].get("$$" if opener == "$" else "$", -1) > j:
            continue  # "$$ … $": no pair for this closer; try the one before
        return tokens[j][0], end, text[tokens[j][1]:start]
    return None


def last_math_span(text: str) -> tuple[int, int, str, tuple[str, ...]] | None:
    """The last ``$…$``/``$$…$$``/``\\(…\\)``/``\\[…\\]`` as (start, end, content, group), paired from
    the end; ``group`` holds the spans written together before it (``$1$, $2$ and $3$``), or is empty."""
    last = _last_span_before(text, len(text))
    if last is None:
        return None
    group = [last]
    while len(group) < MAX_GROUP and (prev := _last_span_before(text, group[0][0])) is not None \
            and _LIST_GAP.fullmatch(text[prev[1]:group[0][0]]):
        group.insert(0, prev)
    return (*last, tuple(g[2].strip() for g in group) if len(group) > 1 else ())


def _spans_from(text: str, first: re.Match[str]) -> tuple[str, ...]:
    """The span ``first`` and those written together after it (``$12$ and $13$``)."""
    group, end = [first], first.end()
    while len(group) < MAX_GROUP and (gap := _LIST_GAP.match(text, end)) is not None \
            and (nxt := _SPANS.match(text, gap.end())) is not None:
        group.append(nxt)
        end = nxt.end()
    return tuple(_content(m).strip() for m in group)


def _content(m: re.Match[str]) -> str:
    return next(g for g in m.groups() if g is not None)


def math_runs(text: str) -> list[tuple[int, int, str]]:
    """Maximal runs of written mathematics as (start, end, text), trimmed of spaces and separators."""
    out = []
    for m in _RUN.finditer(text):
        run = m.group()
        stripped = run.strip(_TRIM)
        if stripped:
            start = m.start() + run.index(stripped)
            out.append((start, start + len(stripped), stripped))
    return out


def _answer_like(run: str) -> bool:
    """A run that can be an answer: it holds a number or a LaTeX command, or is a choice letter."""
    return any(c.isdigit() for c in run) or "\\" in run or re.fullmatch(r"\(?[A-Z]\)?", run) is not None


def _unwrap(run: str) -> str:
    """``(35 + 70 = 105)`` → ``35 + 70 = 105``: parentheses around a whole run are punctuation."""
    if run.startswith("(") and run.endswith(")") and run.count("(") == 1 and run.count(")") == 1:
        return run[1:-1].strip()
    return run


Found = tuple[int, tuple[str, ...], bool]  # (where the answer starts, its parts, read out of prose)


def _answer_after(text: str, start: int) -> Found | None:
    """The answer an "answer is" statement gives: the first math span (with those written together after
    it) or answer-like run after the anchor, whole."""
    tail = text[start:start + STATEMENT_REACH + 400]
    spans = [m for m in _SPANS.finditer(tail) if m.start() <= STATEMENT_REACH]
    span = next((m for m in spans if _answer_like(_content(m).strip())), None)
    run = next((r for r in math_runs(tail) if r[0] <= STATEMENT_REACH and _answer_like(r[2])), None)
    if span is not None and (run is None or span.start() <= run[0]):
        return start + span.start(), _spans_from(tail, span), False
    if run is not None:
        return start + run[0], (_unwrap(run[2]),), True
    return (start + spans[0].start(), _spans_from(tail, spans[0]), False) if spans else None  # "answer is $x$"


def _conclusion_after(text: str, start: int) -> Found | None:
    """The answer a concluding sentence states: its last answer-like run (``Therefore, there are 12 …``)."""
    end = _SENTENCE_END.search(text, start)
    runs = [r for r in math_runs(text[start:end.start() if end else len(text)]) if _answer_like(r[2])]
    return (start + runs[-1][0], (_unwrap(runs[-1][2]),), True) if runs else None


def _last_statement(region: str, anchor: re.Pattern[str],
                    answer_of: Callable[[str, int], Found | None]) -> tuple[re.Match[str], Found] | None:
    """(anchor, what it states) of the last statement of one kind that gives an answer."""
    for m in reversed(list(anchor.finditer(region))[-MAX_STATEMENTS:]):
        found = answer_of(region, m.end())
        if found and found[1][-1]:
            return m, found
    return None


def _stated(found: Found) -> AnswerSpan:
    _, parts, prose = found
    return AnswerSpan(parts[-1], "statement", parts if len(parts) > 1 else (), prose)


def find_answer(region: str) -> AnswerSpan | None:
    """The answer span of a final-answer region (see the module docstring), or None when it has none."""
    region = drop_invisible(region)
    found = boxes(region)
    stated = _last_statement(region, _ANCHOR, _answer_after)
    final = stated is not None and _FINAL.match(stated[0].group()) is not None
    if found and not (final and stated[0].start() >= found[-1][1]):  # type: ignore[index]
        return AnswerSpan(found[-1][2], "boxed", _box_group(found, region))
    if stated is not None:
        return _stated(stated[1])
    span = last_math_span(region)
    if span is not None and (reads_as_prose(span[2]) or not span[2].strip()):
        span = None
    concluded = _last_statement(region, _CONCLUSION, _conclusion_after)
    if concluded is not None and span is not None and concluded[1][0] >= span[1]:
        return _stated(concluded[1])
    if span is not None:
        return AnswerSpan(span[2].strip(), "math_span", span[3])
    bare = region.strip().rstrip(".")
    if 0 < len(bare) <= BARE_ANSWER_CHARS and not reads_as_prose(bare):
        return AnswerSpan(bare, "bare")
    if concluded is not None:
        return _stated(concluded[1])
    runs = [r for r in math_runs(region) if any(c.isdigit() for c in r[2])]
    return AnswerSpan(_unwrap(runs[-1][2]), "prose", prose=True) if runs else None
