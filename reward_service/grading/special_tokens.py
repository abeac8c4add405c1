"""End-of-sequence, end-of-turn and padding tokens a completion ends with: not part of the answer.

OpenRLHF (0.11) decodes its rollouts with ``skip_special_tokens=False``, so each completion ends in the
model's stop token (``<|im_end|>``, ``<|eot_id|>``...) and sometimes padding after it; the format grader
would see "text after </answer>" and give every right completion 0. The engine strips them where an item
comes in (:func:`strip_item`), before keys, graders, judges or reward models see it, and says so in
``details.stripped_tokens``. Only at the very end, repeated and with whitespace between them: a model that
wrote on past its stop token (``<|im_end|><|im_start|>user ...``) keeps all of it, and is graded on it.
``REWARD_EXTRA_STOP_TOKENS`` adds tokens to :data:`KNOWN`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from reward_service.schemas import ItemResult, ScoreItem

KNOWN: tuple[str, ...] = (
    "<|im_end|>",                 # ChatML end of turn: Qwen, Yi, Hermes
    "<|endoftext|>",              # GPT-2, Qwen (its pad and base-model end), Phi, StarCoder
    "</s>",                       # Llama 2, Mistral, Mixtral
    "<|eot_id|>",                 # Llama 3 end of turn
    "<|eom_id|>",                 # Llama 3.1 end of message (after a tool call)
    "<|end_of_text|>",            # Llama 3 end of text (base models)
    "<｜end▁of▁sentence｜>",       # DeepSeek V3 / R1 (full-width bars, U+2581 blanks)
    "<|EOT|>",                    # DeepSeek-Coder instruct
    "<end_of_turn>", "<eos>",     # Gemma
    "<|end|>",                    # Phi-3, gpt-oss end of message
    "<|return|>",                 # gpt-oss end of the final message
    # Padding, which a batch decoded with special tokens ends in after the stop token; never an answer.
    "<pad>", "<|pad|>", "<|finetune_right_pad_id|>", "<｜▁pad▁｜>",
)


@lru_cache(maxsize=8)
def stop_tokens(extra: str | None = None) -> tuple[str, ...]:
    """:data:`KNOWN` plus ``extra`` (comma-separated, as ``REWARD_EXTRA_STOP_TOKENS`` holds them), longest
    first so that a token that ends with another is taken whole."""
    more = [t.strip() for t in (extra or "").split(",") if t.strip()]
    return tuple(sorted(dict.fromkeys((*KNOWN, *more)), key=len, reverse=True))


@lru_cache(maxsize=8)
def _reversed(tokens: tuple[str, ...]) -> re.Pattern[str]:
    """Whitespace then one of ``tokens``, all reversed: the end of a text is matched by C, not by a loop."""
    return re.compile(r"\s*(" + "|".join(re.escape(t[::-1]) for t in sorted(tokens, key=len, reverse=True)) + ")")


def strip_trailing(text: str, tokens: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """(``text`` without the ``tokens`` it ends with, those tokens in the order they were written).

    Whitespace between and after them goes too; whitespace before the first stays (it is the model's)."""
    if not tokens or not text.rstrip().endswith(tokens):
        return text, ()
    pattern, backwards, cut, found = _reversed(tokens), text[::-1], 0, []
    while (match := pattern.match(backwards, cut)) is not None:
        found.append(match.group(1)[::-1])
        cut = match.end()
    return text[:len(text) - cut], tuple(reversed(found))


def strip_item(item: ScoreItem, tokens: tuple[str, ...]) -> tuple[ScoreItem, tuple[str, ...]]:
    """``item`` with its completion (a chat's last assistant message) stripped, and what was stripped."""
    if isinstance(item.completion, str):
        text, found = strip_trailing(item.completion, tokens)
        return (item.model_copy(update={"completion": text}), found) if found else (item, ())
    messages = list(item.completion)
    for k in range(len(messages) - 1, -1, -1):
        if messages[k].role == "assistant":
            text, found = strip_trailing(messages[k].content, tokens)
            if not found:
                break
            messages[k] = messages[k].model_copy(update={"content": text})
            return item.model_copy(update={"completion": messages}), found
    return item, ()


def noted(result: ItemResult, found: tuple[str, ...]) -> ItemResult:
    """``result`` saying in ``details.stripped_tokens`` what was stripped from its completion (if anything)."""
    if not found:
        return result
    return result.model_copy(update={"details": {**result.details, "stripped_tokens": list(found)}})
