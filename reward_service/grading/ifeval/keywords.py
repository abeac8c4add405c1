"""``keywords:*``: words that must appear, how often, words that must not, a letter's frequency.

Google's checkers use the keyword as a regular expression; a label is a caller's input, so we match it as
literal text (the same for every plain word IFEval uses, and no pattern from a caller is ever compiled).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.registry import Arg, compare, rule


@rule("keywords:existence", keywords=Arg.words)
def existence(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    missing = [k for k in kwargs["keywords"] if not re.search(re.escape(k), response, flags=re.IGNORECASE)]
    return not missing, f"missing {missing}" if missing else "all keywords present"


@rule("keywords:frequency", keyword=Arg.text, frequency=Arg.count, relation=Arg.relation)
def frequency(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = len(re.findall(re.escape(kwargs["keyword"]), response, flags=re.IGNORECASE))
    return compare(found, kwargs["relation"], kwargs["frequency"], f"times {kwargs['keyword']!r}")


@rule("keywords:forbidden_words", forbidden_words=Arg.words)
def forbidden_words(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = [w for w in kwargs["forbidden_words"]
             if re.search(r"\b" + re.escape(w) + r"\b", response, flags=re.IGNORECASE)]
    return not found, f"used {found}" if found else "no forbidden word"


@rule("keywords:letter_frequency", letter=Arg.letter, let_frequency=Arg.count, let_relation=Arg.relation)
def letter_frequency(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = response.lower().count(kwargs["letter"])
    return compare(found, kwargs["let_relation"], kwargs["let_frequency"], f"letters {kwargs['letter']!r}")
