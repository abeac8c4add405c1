"""The rule-based sentence splitter of Google's IFEval utilities, used by IFEvalG's new checkers (not punkt).

Verdicts such as "the first word of each sentence" depend on where it cuts, so we cut where it cuts: newlines
are spaces; ``Mr.``-style titles, ``.com``-style domains, ``3.14``, single letters (``A.``, ``U.S.``) and
``Inc.`` do not end a sentence; ``...`` does; a closing quote moves before its ``.``/``!``/``?``. Pure ``re``.
"""

from __future__ import annotations

import re

__all__ = ["split_into_sentences"]

_PRD, _STOP = "<prd>", "<stop>"
_LETTER = "([A-Za-z])"
_SUFFIX = "(Inc|Ltd|Jr|Sr|Co)"
_STARTER = (r"(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\s|She\s|It\s|They\s|Their\s|Our\s|We\s|But\s|However\s|That\s"
            r"|This\s|Wherever)")
_ACRONYM = "([A-Z][.][A-Z][.](?:[A-Z][.])?)"

# (pattern, replacement) in the order the reference applies them; every "." kept inside a sentence is <prd>
_KEEP_DOTS: tuple[tuple[str, str], ...] = (
    ("(Mr|St|Mrs|Ms|Dr)[.]", rf"\1{_PRD}"),
    ("[.](com|net|org|io|gov|edu|me)", rf"{_PRD}\1"),
    ("([0-9])[.]([0-9])", rf"\1{_PRD}\2"),
)
_LETTER_DOTS: tuple[tuple[str, str], ...] = (
    (r"\s" + _LETTER + "[.] ", rf" \1{_PRD} "),
    (_ACRONYM + " " + _STARTER, rf"\1{_STOP} \2"),
    (_LETTER + "[.]" + _LETTER + "[.]" + _LETTER + "[.]", rf"\1{_PRD}\2{_PRD}\3{_PRD}"),
    (_LETTER + "[.]" + _LETTER + "[.]", rf"\1{_PRD}\2{_PRD}"),
    (" " + _SUFFIX + "[.] " + _STARTER, rf" \1{_STOP} \2"),
    (" " + _SUFFIX + "[.]", rf" \1{_PRD}"),
    (" " + _LETTER + "[.]", rf" \1{_PRD}"),
)
_QUOTE_SWAPS = ((".\u201d", "\u201d."), ('."', '".'), ('!"', '"!'), ('?"', '"?'))


def split_into_sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped; a trailing empty one dropped (inner empty ones kept, as there)."""
    text = " " + text.replace("\n", " ") + "  "
    for pattern, replacement in _KEEP_DOTS:
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"\.{2,}", lambda match: _PRD * len(match.group(0)) + _STOP, text)
    text = text.replace("Ph.D.", f"Ph{_PRD}D{_PRD}")
    for pattern, replacement in _LETTER_DOTS:
        text = re.sub(pattern, replacement, text)
    for before, after in _QUOTE_SWAPS:
        text = text.replace(before, after)
    for mark in ".?!":
        text = text.replace(mark, mark + _STOP)
    parts = [part.strip() for part in text.replace(_PRD, ".").split(_STOP)]
    return parts[:-1] if parts and not parts[-1] else parts
