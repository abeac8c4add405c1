"""Tool calling for the tiny word-level model: its chat and response templates, and synthetic SFT traces.

TRL's GRPOTrainer renders tool calls with the tokenizer's chat template and parses the model's output with
its ``response_template`` (transformers' response parser); it ships those only for known model families
(Qwen, Llama, ...). The tiny model's tokenizer splits on whitespace, so this module gives it the smallest
honest pair: a template that writes a call as ``<tool_call> {"name": ..., "arguments": {...}} </tool_call>``
and a response template that reads it back, both words of the vocabulary. Code in the traces has spaces
between its parts (``print( 3 + 4 )``), so the model copies numbers from the question word by word.

:func:`traces` are the SFT data: "what is 3 + 4 ?" → a ``python`` call → its output → ``<answer> 7 </answer>``.
Every row also carries ``question``/``answer``/``task``, so the same file is GRPO's prompts.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

# The tiny chat template with tools: an assistant turn (its text, then its calls) ends with <eos>, where
# generation stops. Prefix-preserving, as TRL requires. It does not list the tools offered: the tiny model
# knows its one tool from SFT, and a schema's words would only grow its vocabulary.
TOOL_CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'assistant' %}assistant : {{ m['content'] or '' }}"
    "{% for call in m.get('tool_calls') or [] %} <tool_call> {{ call['function'] | tojson }} </tool_call>"
    "{% endfor %} <eos> "
    "{% else %}{{ m['role'] }} : {{ m['content'] }} {% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}assistant :{% endif %}"
)

# transformers' response_template for it: the text up to <eos>, and each call's JSON.
RESPONSE_TEMPLATE: dict[str, Any] = {
    "defaults": {"role": "assistant"},
    "start_anchor": "assistant :",
    "fields": {
        "tool_calls": {"open": "<tool_call>", "close_pattern": r"\s*</tool_call>\s*", "repeats": True,
                       "content": "json", "transform": {"type": "function", "function": "{content}"}},
        "content": {"close_pattern": r"\s*<eos>\s*", "content": "text"},
    },
}

TOOL_WORDS = ("tool", "python", "<tool_call>", "</tool_call>")


def tool_tokenizer(texts: Iterable[str], conversations: Sequence[list[dict[str, Any]]] = ()) -> Any:
    """A tiny word-level tokenizer that calls tools: its vocabulary covers ``texts`` and every conversation
    as the template renders it (a call's JSON words included)."""
    from trainer.tiny import build_tokenizer
    renderer = build_tokenizer([], chat_template=TOOL_CHAT_TEMPLATE)
    rendered = [renderer.apply_chat_template(c, tokenize=False) for c in conversations]
    tokenizer = build_tokenizer([*texts, *rendered, " ".join(TOOL_WORDS)], chat_template=TOOL_CHAT_TEMPLATE)
    tokenizer.response_template = RESPONSE_TEMPLATE
    return tokenizer


def calls_tools(conversations: Iterable[list[dict[str, Any]]]) -> bool:
    return any(m.get("tool_calls") for c in conversations for m in c)


def _call(code: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": "python", "arguments": {"code": code}}}


def traces(n: int, *, seed: int = 0, max_number: int = 9) -> Iterator[dict[str, Any]]:
    """``n`` rows of "what is a + b ?" answered through one ``python`` call (seeded, deterministic)."""
    rng = random.Random(seed)
    for _ in range(n):
        a, b = rng.randint(0, max_number), rng.randint(0, max_number)
        question, answer = f"what is {a} + {b} ?", str(a + b)
        messages = [
            {"role": "user", "content": question},
            {"role": "assistant", "content": "", "tool_calls": [_call(f"print( {a} + {b} )")]},
            {"role": "tool", "name": "python", "content": answer},
            {"role": "assistant", "content": f"<answer> {answer} </answer>"},
        ]
        yield {"question": question, "answer": answer, "task": "math", "messages": messages}
