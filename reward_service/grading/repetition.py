"""The n-gram repetition penalty (open-r1's ``repetition_penalty_reward``, also in TRL's reward functions):
``(1 - distinct n-grams / n-grams) * max_penalty``. A chain of thought that loops ("wait, let me check,
wait, let me check…") repeats its n-grams and is penalised in proportion; a text with fewer than ``ngram``
tokens is not judged (0).

Tokens: whitespace-separated words, as open-r1 splits them, except that Chinese and Japanese, written
without spaces, count each Han character and each kana as a token (otherwise a whole Chinese paragraph would
be one "word" and could loop for ever unpenalised). Case is ignored, as open-r1 lowercases.
"""

from __future__ import annotations

import re

from reward_service.grading.types import Grade, Reason

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def repetition_penalty(text: str, ngram: int = 3, max_penalty: float = -1.0) -> Grade:
    """``max_penalty`` times the share of repeated n-grams; 0 for a text shorter than one n-gram."""
    words = tokens(text)
    total = len(words) - ngram + 1
    if total <= 0:
        return Grade.ok(0.0, Reason.too_short, f"fewer than {ngram} tokens", ngrams=0, distinct=0)
    distinct = len({tuple(words[i:i + ngram]) for i in range(total)})
    return Grade.ok((1 - distinct / total) * max_penalty or 0.0, ngrams=total, distinct=distinct)  # never -0.0
